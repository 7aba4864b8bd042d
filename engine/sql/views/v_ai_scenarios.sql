-- v_ai_scenarios: the AI risk scenario library (mappings/scenarios, loaded by `riskmap init`), one row per
-- scenario, with how far the AI systems it applies to have been assessed (ISO 42001 6.1.2, Annex C).
--   roles, stages, requires, requires_any, excludes  the conditions that decide which systems it applies to
--   n_systems     AI systems it applies to; n_identified, n_not_applicable, n_open split them by state
CREATE OR REPLACE VIEW v_ai_scenarios AS
WITH states AS (
    SELECT scenario_id, count(*) AS n_systems,
           count(*) FILTER (WHERE state = 'identified') AS n_identified,
           count(*) FILTER (WHERE state = 'not_applicable') AS n_not_applicable,
           count(*) FILTER (WHERE state = 'open') AS n_open
    FROM v_ai_risk_identification
    GROUP BY scenario_id
)
SELECT sc.id, sc.theme, sc.title, sc.description, sc.cause, sc.event, sc.consequence_org,
       sc.consequence_individuals, sc.risk_sources, sc.objectives, sc.cia, sc.management_system, sc.roles,
       sc.stages, sc.requires, sc.requires_any, sc.excludes, sc.controls, sc.refs, sc.origin_file,
       sc.library_version,
       coalesce(st.n_systems, 0) AS n_systems, coalesce(st.n_identified, 0) AS n_identified,
       coalesce(st.n_not_applicable, 0) AS n_not_applicable, coalesce(st.n_open, 0) AS n_open,
       sc.ordinal
FROM ai_scenarios sc
LEFT JOIN states st ON st.scenario_id = sc.id
ORDER BY sc.ordinal;
