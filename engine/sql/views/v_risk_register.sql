-- v_risk_register: the consolidated risk register of the ISMS and the AIMS, one row per risk
-- (ISO 27001 6.1.2 / 8.2, ISO 42001 6.1.2 / 8.2). Scores and levels are read with the criteria
-- (matrix version) each risk was scored under, never rescaled here.
--   <stage>_score     likelihood x impact at that stage (inherent, current, residual)
--   <stage>_level     level name of that score under the risk's matrix version
--   score, level      the risk as it stands (risk_score): current if scored, else inherent
--   within_appetite   score <= the appetite of the risk's matrix version (NULL when unscored)
--   residual_within_appetite  the same for the residual score
--   acceptance_status none | accepted | expired (expiry before riskmap_today())
--   review_overdue    next_review is before riskmap_today()
--   controls_27001 / controls_42001  linked Annex A refs (existing and planned);
--   controls_planned  framework:ref of the planned ones
--   sources           lineage, one 'source:row' per register row the risk came from
--   controls_text     the control cells as the register wrote them, when they described controls in
--                     words (their phrases are proposed as controls in v_control_suggestions)
--   source_keys       the registers' own ids of the risk (risk_sources.source_key, e.g. RR-001), sorted
--
-- Only the risks of the business units the session may see are listed (unit_visible: every unit
-- unless the engine set riskmap_units for a principal limited to units).
--
-- The logic lives in table macros, so a reader that needs only some risks pays only for those:
--   risk_register_levels()    one row per risk with its scores, levels and appetite, without the
--                             per-risk lists (cheap: filter and sort on it)
--   risk_register_filtered(systems, statuses, levels, owners, title_text)
--                             the rows of risk_register_levels() matching every filter: management
--                             system, status, level and owner in the given lists (an empty list: any),
--                             title_text found whatever the case in the title, the risk's id or one of
--                             the registers' own ids of the risk (risk_sources.source_key) ('': any)
--   risk_register_rows(ids)   the full register rows (the view's columns) of the risks whose id is in
--                             the list ids, or of every risk when ids is NULL; the lists are built
--                             only for those risks
-- For example: SELECT * FROM risk_register_rows(['R-0001', 'R-0002']).
CREATE OR REPLACE MACRO risk_register_levels() AS TABLE
WITH scored AS (
    SELECT r.*,
           r.inherent_likelihood * r.inherent_impact AS inherent_score,
           r.current_likelihood * r.current_impact AS current_score,
           r.residual_likelihood * r.residual_impact AS residual_score,
           m.level_names, m.level_thresholds, m.level_colours, m.appetite,
           r.matrix_version = (SELECT max(version) FROM risk_matrix_versions) AS matrix_current
    FROM risks r
    JOIN risk_matrix_versions m ON m.version = r.matrix_version
    WHERE unit_visible(r.business_unit)
), leveled AS (
    SELECT *,
           risk_score(current_likelihood, current_impact, inherent_likelihood, inherent_impact) AS score,
           level_name(level_names, level_thresholds, inherent_score) AS inherent_level,
           level_name(level_names, level_thresholds, current_score) AS current_level,
           level_name(level_names, level_thresholds, residual_score) AS residual_level
    FROM scored
)
SELECT *,
       level_name(level_names, level_thresholds, score) AS level,
       level_colour(level_colours, level_thresholds, score) AS level_colour
FROM leveled;

CREATE OR REPLACE MACRO risk_register_filtered(systems, statuses, levels, owners, title_text) AS TABLE
SELECT l.*
FROM risk_register_levels() l
WHERE (len(systems) = 0 OR list_contains(systems, l.management_system))
  AND (len(statuses) = 0 OR list_contains(statuses, l.status))
  AND (len(levels) = 0 OR list_contains(levels, l.level))
  AND (len(owners) = 0 OR list_contains(owners, l.owner))
  AND (title_text = '' OR contains(lower(l.title), lower(title_text)) OR contains(lower(l.id), lower(title_text))
       OR l.id IN (SELECT s.risk_id FROM risk_sources s WHERE contains(lower(s.source_key), lower(title_text))));

CREATE OR REPLACE MACRO risk_register_rows(ids) AS TABLE
WITH picked AS (
    SELECT * FROM risk_register_levels() WHERE ids IS NULL OR list_contains(ids, id)
), ctl AS (
    SELECT rc.risk_id,
           list(rc.ref ORDER BY c.ordinal, rc.ref) FILTER (WHERE rc.framework = 'iso27001-2022') AS controls_27001,
           list(rc.ref ORDER BY c.ordinal, rc.ref) FILTER (WHERE rc.framework = 'iso42001-2023') AS controls_42001,
           list(rc.framework || ':' || rc.ref ORDER BY rc.framework, c.ordinal, rc.ref)
               FILTER (WHERE rc.status = 'planned') AS controls_planned
    FROM risk_controls rc
    SEMI JOIN picked p ON p.id = rc.risk_id
    LEFT JOIN controls c ON c.framework = rc.framework AND c.ref = rc.ref
    GROUP BY rc.risk_id
), ast AS (
    SELECT ra.risk_id, list(a.name ORDER BY a.name) AS assets, list(a.id ORDER BY a.name) AS asset_ids
    FROM risk_assets ra SEMI JOIN picked p ON p.id = ra.risk_id
    JOIN assets a ON a.id = ra.asset_id
    GROUP BY ra.risk_id
), ais AS (
    SELECT rs.risk_id, list(s.name ORDER BY s.name) AS ai_systems, list(s.id ORDER BY s.name) AS ai_system_ids
    FROM risk_ai_systems rs SEMI JOIN picked p ON p.id = rs.risk_id
    JOIN ai_systems s ON s.id = rs.ai_system_id
    GROUP BY rs.risk_id
), src AS (
    SELECT risk_id, list(source || ':' || source_row ORDER BY source, source_row) AS sources,
           count(*) AS n_sources,
           list(DISTINCT source_key ORDER BY source_key) FILTER (WHERE source_key IS NOT NULL) AS source_keys
    FROM risk_sources SEMI JOIN picked p ON p.id = risk_id
    GROUP BY risk_id
)
SELECT
    l.id, l.title, l.description, l.cause, l.event, l.consequence,
    l.management_system, l.status, l.category, l.business_unit, l.owner,
    l.threat, l.vulnerability, l.ai_risk_sources,
    l.confidentiality, l.integrity, l.availability, l.ai_objectives,
    l.consequence_org, l.consequence_individuals,
    l.matrix_version, l.matrix_current,
    l.inherent_likelihood, l.inherent_impact, l.inherent_score, l.inherent_level,
    l.current_likelihood, l.current_impact, l.current_score, l.current_level,
    l.residual_likelihood, l.residual_impact, l.residual_score, l.residual_level,
    l.score, l.level, l.level_colour,
    l.appetite,
    within_appetite(l.score, l.appetite) AS within_appetite,
    within_appetite(l.residual_score, l.appetite) AS residual_within_appetite,
    l.treatment, l.treatment_notes,
    CASE
        WHEN l.acceptance_approver IS NULL AND l.acceptance_date IS NULL THEN 'none'
        WHEN date_passed(l.acceptance_expiry) THEN 'expired'
        ELSE 'accepted'
    END AS acceptance_status,
    l.acceptance_approver, l.acceptance_date, l.acceptance_expiry, l.acceptance_justification,
    l.next_review,
    coalesce(date_passed(l.next_review), false) AS review_overdue,
    coalesce(ctl.controls_27001, []::VARCHAR[]) AS controls_27001,
    coalesce(ctl.controls_42001, []::VARCHAR[]) AS controls_42001,
    coalesce(ctl.controls_planned, []::VARCHAR[]) AS controls_planned,
    coalesce(ast.assets, []::VARCHAR[]) AS assets,
    coalesce(ast.asset_ids, []::VARCHAR[]) AS asset_ids,
    coalesce(ais.ai_systems, []::VARCHAR[]) AS ai_systems,
    coalesce(ais.ai_system_ids, []::VARCHAR[]) AS ai_system_ids,
    coalesce(src.sources, []::VARCHAR[]) AS sources,
    coalesce(src.n_sources, 0) AS n_sources,
    l.version, l.created_at, l.updated_at,
    l.controls_text,
    coalesce(src.source_keys, []::VARCHAR[]) AS source_keys
FROM picked l
LEFT JOIN ctl ON ctl.risk_id = l.id
LEFT JOIN ast ON ast.risk_id = l.id
LEFT JOIN ais ON ais.risk_id = l.id
LEFT JOIN src ON src.risk_id = l.id;

CREATE OR REPLACE VIEW v_risk_register AS SELECT * FROM risk_register_rows(NULL);
