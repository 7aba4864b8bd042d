-- ai_scenario_open: an AI system in scope of the ISO 42001 SoA (named by an applicable or undecided 42001
-- row) to which risk scenarios of the library apply that are neither identified as a register risk nor
-- recorded as not applicable with a reason (ISO 42001 6.1.2 c, 8.2, Annex C). One row per system.
WITH in_scope AS (
    SELECT DISTINCT sys.id AS ai_system_id
    FROM v_soa s, unnest(s.ai_systems) AS sys(id)
    WHERE s.framework = 'iso42001-2023' AND soa_not_excluded(s.applicable)
)
SELECT 'ai_scenario_open' AS rule, 'warning' AS severity, 'ai_system' AS entity, i.ai_system_id AS entity_id,
       count(*) || ' applicable risk scenario(s) neither identified nor ruled out: '
           || array_to_string(list(i.scenario_id ORDER BY i.scenario_id), ', ') AS detail
FROM v_ai_risk_identification i
JOIN in_scope sc ON sc.ai_system_id = i.ai_system_id
WHERE i.state = 'open'
GROUP BY i.ai_system_id
