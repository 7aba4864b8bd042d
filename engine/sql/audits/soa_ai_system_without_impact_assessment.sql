-- soa_ai_system_without_impact_assessment: a 42001 SoA row with AI systems in scope, some of which have
-- no live impact assessment (ISO 42001 6.1.4, 8.4, A.5). One row per SoA row, naming the systems.
WITH missing AS (
    SELECT s.framework, s.ref, sys.id AS ai_system_id
    FROM v_soa s, unnest(s.ai_systems) AS sys(id)
    WHERE s.framework = 'iso42001-2023' AND soa_not_excluded(s.applicable)
      AND NOT EXISTS (SELECT 1 FROM impact_assessments ia
                      WHERE ia.ai_system_id = sys.id
                        AND assessment_live(ia.status))
)
SELECT 'soa_ai_system_without_impact_assessment' AS rule, 'error' AS severity, 'soa_row' AS entity,
       framework || ':' || ref AS entity_id,
       'AI systems in scope without an impact assessment: '
           || array_to_string(list(ai_system_id ORDER BY ai_system_id), ', ') AS detail
FROM missing
GROUP BY framework, ref
