-- v_plan_residual: each open risk (risk_open: status not closed) before and after the treatment plan
-- (ISO 27001 6.1.3 e-f, ISO 42001 6.1.3 g), with the risk owner's plan approval and residual acceptance.
-- current_score: the risk_score, current likelihood x impact (inherent when no current score is given).
-- target_residual_score: the residual likelihood x impact the register expects after treatment.
-- residual_after_plan: the target residual score when at least one (not cancelled) action treats the
-- risk, else the current score (no planned work, no expected change).
-- score_now: the score the risk counts at today with the work done so far (plan_score): the target residual
-- score once every (not cancelled) action treating it is done, else the current score; score_now_level
-- its level, above_appetite_score_now whether it is above appetite, score_basis which score it is:
-- 'residual (actions done)', 'current' or 'inherent' (no current score given), NULL when unscored.
-- Levels are named by the risk matrix version the risk was scored under; appetite is that version's.
-- plan_approval_current: the latest approval covers exactly today's actions and has not expired.
-- acceptance_current: a residual acceptance is recorded and has not expired.
-- Dates are compared with riskmap_today(). Risks of the business units the session may see only (unit_visible).
-- plan_approval_recorded_by / acceptance_recorded_by: the stable id of the principal who recorded the latest
-- plan approval / residual acceptance (NULL before ids were kept).
CREATE OR REPLACE VIEW v_plan_residual AS
WITH plan AS (
    SELECT ar.risk_id, list(a.id ORDER BY a.id) AS action_ids,
           count(*) FILTER (WHERE action_open(a.status)) AS n_open_actions,
           count(*) FILTER (WHERE a.status = 'done') AS n_done_actions
    FROM action_risks ar JOIN actions a ON a.id = ar.action_id
    WHERE action_in_plan(a.status)
    GROUP BY ar.risk_id
),
approval AS (
    SELECT risk_id, approved_by, approved_at, expires_on, action_ids, recorded_by
    FROM plan_approvals
    QUALIFY row_number() OVER (PARTITION BY risk_id ORDER BY approved_at DESC, id DESC) = 1
),
scored AS (
    SELECT r.id, r.title, r.owner, r.management_system, r.treatment, r.status, r.matrix_version, r.business_unit,
           r.acceptance_approver, r.acceptance_date, r.acceptance_expiry,
           m.appetite, m.level_names, m.level_thresholds,
           risk_score(r.current_likelihood, r.current_impact, r.inherent_likelihood, r.inherent_impact)
               AS current_score,
           r.residual_likelihood * r.residual_impact AS target_residual_score,
           r.current_likelihood * r.current_impact IS NOT NULL AS has_current_score
    FROM risks r LEFT JOIN risk_matrix_versions m ON m.version = r.matrix_version
    WHERE risk_open(r.status) AND unit_visible(r.business_unit)
),
accepted AS (
    SELECT risk_id, recorded_by
    FROM residual_acceptances
    QUALIFY row_number() OVER (PARTITION BY risk_id ORDER BY accepted_at DESC, id DESC) = 1
),
after AS (
    SELECT s.*, p.action_ids, p.n_open_actions, p.n_done_actions,
           CASE WHEN p.risk_id IS NOT NULL THEN coalesce(s.target_residual_score, s.current_score)
                ELSE s.current_score END AS residual_after_plan
    FROM scored s LEFT JOIN plan p ON p.risk_id = s.id
)
SELECT a.id AS risk_id, a.title, a.owner, a.management_system, a.treatment, a.status, a.matrix_version,
       a.current_score,
       level_name(a.level_names, a.level_thresholds, a.current_score) AS current_level,
       a.target_residual_score,
       a.residual_after_plan,
       level_name(a.level_names, a.level_thresholds, a.residual_after_plan) AS residual_level_after_plan,
       a.appetite,
       NOT within_appetite(a.current_score, a.appetite) AS above_appetite_now,
       NOT within_appetite(a.residual_after_plan, a.appetite) AS above_appetite_after_plan,
       coalesce(a.action_ids, []::VARCHAR[]) AS action_ids,
       coalesce(a.n_open_actions, 0) AS n_open_actions,
       coalesce(a.n_done_actions, 0) AS n_done_actions,
       ap.approved_by AS plan_approved_by, ap.approved_at AS plan_approved_at,
       ap.expires_on AS plan_approval_expires,
       coalesce(ap.action_ids = coalesce(a.action_ids, []::VARCHAR[])
                AND (ap.expires_on IS NULL OR NOT date_passed(ap.expires_on)), false) AS plan_approval_current,
       a.acceptance_approver, a.acceptance_date, a.acceptance_expiry,
       coalesce(a.acceptance_approver IS NOT NULL
                AND (a.acceptance_expiry IS NULL OR NOT date_passed(a.acceptance_expiry)), false)
           AS acceptance_current,
       ap.recorded_by AS plan_approval_recorded_by,
       ac.recorded_by AS acceptance_recorded_by,
       a.business_unit,
       plan_score(a.current_score, a.target_residual_score, a.n_done_actions, a.n_open_actions) AS score_now,
       level_name(a.level_names, a.level_thresholds,
                  plan_score(a.current_score, a.target_residual_score, a.n_done_actions, a.n_open_actions))
           AS score_now_level,
       NOT within_appetite(plan_score(a.current_score, a.target_residual_score, a.n_done_actions,
                                      a.n_open_actions), a.appetite) AS above_appetite_score_now,
       CASE WHEN a.current_score IS NULL THEN NULL
            WHEN coalesce(a.n_done_actions, 0) > 0 AND coalesce(a.n_open_actions, 0) = 0
                 AND a.target_residual_score IS NOT NULL THEN 'residual (actions done)'
            WHEN a.has_current_score THEN 'current' ELSE 'inherent' END AS score_basis
FROM after a
LEFT JOIN approval ap ON ap.risk_id = a.id
LEFT JOIN accepted ac ON ac.risk_id = a.id
ORDER BY a.residual_after_plan DESC NULLS LAST, a.id;
