-- v_treatment_plan: the risk treatment plan (ISO 27001 6.1.3 e, ISO 42001 6.1.3 g), one row per action,
-- ranked "do once, satisfy both".
-- risk_reduction: the expected fall in score (current - target residual, never negative) of each open
-- risk the action treats, shared equally among the (not cancelled) actions treating that risk.
-- controls_27001 / controls_42001 / controls_other: the controls the action lists, by framework.
-- controls_via_crosswalk: controls of the other standard that a listed control contains or equals by a
-- direct crosswalk link (contains_target: equal or superset_of) and that the action does not list itself.
-- n_controls_satisfied: listed controls plus those via the crosswalk; satisfies_both: in both standards.
-- reduction_per_effort, controls_per_effort: per person-day of effort (NULL when no effort is given).
-- rank_reduction, rank_controls: ranks of the open actions (planned, in_progress) by each ratio;
-- score: the sum of both ratios, each divided by its maximum over open actions (0 to 2); rank: by score.
-- Done and cancelled actions are listed with NULL ranks. overdue: open after its due date (riskmap_today()).
CREATE OR REPLACE VIEW v_treatment_plan AS
WITH risk_share AS (
    SELECT ar.action_id, ar.risk_id,
           greatest(coalesce(pr.current_score - coalesce(pr.target_residual_score, pr.current_score), 0), 0)
               / count(*) OVER (PARTITION BY ar.risk_id) AS reduction
    FROM action_risks ar
    JOIN actions a ON a.id = ar.action_id AND action_in_plan(a.status)
    LEFT JOIN v_plan_residual pr ON pr.risk_id = ar.risk_id
),
risks_of AS (
    SELECT a.id AS action_id, list(DISTINCT ar.risk_id ORDER BY ar.risk_id) AS risk_ids
    FROM actions a JOIN action_risks ar ON ar.action_id = a.id
    GROUP BY a.id
),
reduction AS (
    SELECT action_id, sum(reduction) AS risk_reduction FROM risk_share GROUP BY action_id
),
listed AS (
    SELECT action_id,
           list(framework || ':' || ref ORDER BY framework, ref) FILTER (WHERE framework = 'iso27001-2022')
               AS controls_27001,
           list(framework || ':' || ref ORDER BY framework, ref) FILTER (WHERE framework = 'iso42001-2023')
               AS controls_42001,
           list(framework || ':' || ref ORDER BY framework, ref)
               FILTER (WHERE framework NOT IN ('iso27001-2022', 'iso42001-2023')) AS controls_other,
           count(*) AS n_listed,
           bool_or(framework = 'iso27001-2022') AS lists_27001,
           bool_or(framework = 'iso42001-2023') AS lists_42001
    FROM action_controls GROUP BY action_id
),
via AS (
    SELECT DISTINCT ac.action_id, l.target_framework AS framework, l.target_ref AS ref
    FROM action_controls ac
    JOIN crosswalk_links l ON l.source_framework = ac.framework AND l.source_ref = ac.ref
    WHERE l.origin IN ('authored', 'inverse') AND contains_target(l.relationship)
      AND l.target_framework IN ('iso27001-2022', 'iso42001-2023')
      AND l.target_framework <> ac.framework AND l.target_ref IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM action_controls x WHERE x.action_id = ac.action_id
                      AND x.framework = l.target_framework AND x.ref = l.target_ref)
),
via_lists AS (
    SELECT action_id, list(framework || ':' || ref ORDER BY framework, ref) AS controls_via_crosswalk,
           count(*) AS n_via,
           bool_or(framework = 'iso27001-2022') AS via_27001,
           bool_or(framework = 'iso42001-2023') AS via_42001
    FROM via GROUP BY action_id
),
measured AS (
    SELECT a.id AS action_id, a.title, a.description, a.owner, a.due_date, a.status, a.effort,
           action_open(a.status) AND date_passed(a.due_date) AS overdue,
           coalesce(ro.risk_ids, []::VARCHAR[]) AS risk_ids,
           coalesce(l.controls_27001, []::VARCHAR[]) AS controls_27001,
           coalesce(l.controls_42001, []::VARCHAR[]) AS controls_42001,
           coalesce(l.controls_other, []::VARCHAR[]) AS controls_other,
           coalesce(v.controls_via_crosswalk, []::VARCHAR[]) AS controls_via_crosswalk,
           coalesce(l.n_listed, 0) + coalesce(v.n_via, 0) AS n_controls_satisfied,
           (coalesce(l.lists_27001, false) OR coalesce(v.via_27001, false))
               AND (coalesce(l.lists_42001, false) OR coalesce(v.via_42001, false)) AS satisfies_both,
           round(coalesce(r.risk_reduction, 0), 2) AS risk_reduction,
           a.version, a.created_at, a.updated_at
    FROM actions a
    LEFT JOIN risks_of ro ON ro.action_id = a.id
    LEFT JOIN reduction r ON r.action_id = a.id
    LEFT JOIN listed l ON l.action_id = a.id
    LEFT JOIN via_lists v ON v.action_id = a.id
),
ratios AS (
    SELECT *,
           round(risk_reduction / effort, 3) AS reduction_per_effort,
           round(n_controls_satisfied / effort, 3) AS controls_per_effort,
           action_open(status) AS is_open
    FROM measured
),
scored AS (
    SELECT *,
           CASE WHEN is_open THEN
               coalesce(reduction_per_effort / nullif(max(reduction_per_effort) FILTER (WHERE is_open) OVER (), 0), 0)
               + coalesce(controls_per_effort / nullif(max(controls_per_effort) FILTER (WHERE is_open) OVER (), 0), 0)
           END AS raw_score
    FROM ratios
)
SELECT CASE WHEN is_open THEN row_number() OVER (
           PARTITION BY is_open
           ORDER BY CASE WHEN effort IS NULL THEN NULL ELSE raw_score END DESC NULLS LAST,
                    risk_reduction DESC, n_controls_satisfied DESC, action_id) END AS rank,
       action_id, title, description, owner, due_date, status, effort, overdue,
       risk_ids, len(risk_ids) AS n_risks,
       controls_27001, controls_42001, controls_other, controls_via_crosswalk,
       n_controls_satisfied, satisfies_both, risk_reduction, reduction_per_effort, controls_per_effort,
       CASE WHEN is_open THEN rank() OVER (PARTITION BY is_open ORDER BY reduction_per_effort DESC NULLS LAST) END
           AS rank_reduction,
       CASE WHEN is_open THEN rank() OVER (PARTITION BY is_open ORDER BY controls_per_effort DESC NULLS LAST) END
           AS rank_controls,
       CASE WHEN is_open AND effort IS NOT NULL THEN round(raw_score, 3) END AS score,
       version, created_at, updated_at
FROM scored
ORDER BY rank NULLS LAST, action_id;
