-- ai_proposals: the open AI risk scenarios (v_ai_risk_identification, state open) with what a person needs
-- to decide on each: the scenario's description, cause, event, consequences, Annex C sources and
-- objectives, suggested controls and references, and the unrecorded characteristics the proposal rests
-- on. $ai_system: one system's, or NULL for every system's.
SELECT i.ai_system_id, i.ai_system_name, i.scenario_id, i.scenario_title, i.theme, i.unrecorded,
       i.affects_individuals, s.description, s.cause, s.event, s.consequence_org, s.consequence_individuals,
       s.risk_sources, s.objectives, s.management_system, s.controls, s.refs
FROM v_ai_risk_identification i
JOIN ai_scenarios s ON s.id = i.scenario_id
WHERE i.state = 'open' AND ($ai_system IS NULL OR i.ai_system_id = $ai_system)
ORDER BY i.ai_system_id, s.ordinal
