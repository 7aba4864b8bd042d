-- ai_scenario_without_impact_assessment: an AI system to which risk scenarios with consequences for
-- individuals or society apply (identified or still open) while it has no current impact assessment: one
-- with status current whose review date has not passed (assessment_current, dates compared with
-- riskmap_today()) (ISO 42001 6.1.4, 8.4, A.5.2). Names the scenarios.
WITH assessed AS (
    SELECT DISTINCT ai_system_id
    FROM impact_assessments
    WHERE assessment_current(status, next_review_due)
)
SELECT 'ai_scenario_without_impact_assessment' AS rule, 'error' AS severity, 'ai_system' AS entity,
       i.ai_system_id AS entity_id,
       'no current impact assessment, although scenarios with consequences for individuals or society apply: '
           || array_to_string(list(i.scenario_id ORDER BY i.scenario_id), ', ') AS detail
FROM v_ai_risk_identification i
WHERE i.affects_individuals AND i.state <> 'not_applicable'
  AND NOT EXISTS (SELECT 1 FROM assessed a WHERE a.ai_system_id = i.ai_system_id)
GROUP BY i.ai_system_id
