-- v_ai_risk_identification: which risk scenarios of the library apply to which AI system, and whether each
-- has been identified as a register risk, ruled out with a reason, or is still open (ISO 42001 6.1.2 c,
-- 8.2, Annex C). One row per AI system and applicable scenario. A scenario applies when
--   - the system's roles meet the scenario's roles,
--   - the system has not yet moved past the last life cycle stage in which the risk is present,
--   - no characteristic it requires is recorded as false, at least one of its alternatives
--     (requires_any) is not recorded as false, and no characteristic it excludes is recorded as true.
-- A role, stage or characteristic nobody recorded never rules a scenario out; unrecorded lists the ones
-- the proposal rests on.
--   state     identified (a decision links a risk that names the system), not_applicable (with a reason)
--             or open
CREATE OR REPLACE VIEW v_ai_risk_identification AS
WITH stage_order AS (
    SELECT ['inception', 'design', 'development', 'verification', 'deployment', 'operation', 'retired'] AS stages
),
systems AS (
    SELECT s.id, s.name,
           CASE WHEN trim(coalesce(s.role, '')) = '' THEN NULL
                ELSE list_transform(string_split(s.role, ','), lambda r: trim(r)) END AS roles,
           nullif(list_position(o.stages, s.lifecycle_stage), 0) AS stage_rank
    FROM ai_systems s, stage_order o
),
scenarios AS (
    SELECT sc.*, list_max(list_transform(sc.stages, lambda x: list_position(o.stages, x))) AS last_stage_rank
    FROM ai_scenarios sc, stage_order o
),
conditions AS (
    SELECT id AS scenario_id, 'requires' AS kind, unnest(requires) AS characteristic FROM ai_scenarios
    UNION ALL
    SELECT id, 'requires_any', unnest(requires_any) FROM ai_scenarios
    UNION ALL
    SELECT id, 'excludes', unnest(excludes) FROM ai_scenarios
),
checked AS (   -- per system and scenario: does a recorded characteristic rule it out, what rests on no record
    SELECT c.ai_system_id, k.scenario_id,
           bool_or((k.kind = 'requires' AND c.value = false) OR (k.kind = 'excludes' AND c.value = true)) AS ruled_out,
           count(*) FILTER (WHERE k.kind = 'requires_any' AND c.value IS DISTINCT FROM false) AS n_any_possible,
           count(*) FILTER (WHERE k.kind = 'requires_any' AND c.value) AS n_any_true,
           list(c.characteristic ORDER BY c.characteristic)
               FILTER (WHERE c.value IS NULL AND k.kind <> 'requires_any') AS unrecorded_all,
           list(c.characteristic ORDER BY c.characteristic)
               FILTER (WHERE c.value IS NULL AND k.kind = 'requires_any') AS unrecorded_any
    FROM conditions k JOIN v_ai_characteristics c ON c.characteristic = k.characteristic
    GROUP BY c.ai_system_id, k.scenario_id
),
applicable AS (
    SELECT s.id AS ai_system_id, s.name AS ai_system_name, sc.id AS scenario_id, sc.title AS scenario_title,
           sc.theme, sc.ordinal, sc.consequence_individuals IS NOT NULL AS affects_individuals,
           list_concat(CASE WHEN s.roles IS NULL THEN ['role'] ELSE []::VARCHAR[] END,
                       CASE WHEN s.stage_rank IS NULL THEN ['lifecycle_stage'] ELSE []::VARCHAR[] END,
                       coalesce(ch.unrecorded_all, []::VARCHAR[]),
                       CASE WHEN coalesce(ch.n_any_true, 0) = 0 THEN coalesce(ch.unrecorded_any, []::VARCHAR[])
                            ELSE []::VARCHAR[] END) AS unrecorded
    FROM systems s
    CROSS JOIN scenarios sc
    LEFT JOIN checked ch ON ch.ai_system_id = s.id AND ch.scenario_id = sc.id
    WHERE (s.roles IS NULL OR len(list_intersect(s.roles, sc.roles)) > 0)
      AND (s.stage_rank IS NULL OR s.stage_rank <= sc.last_stage_rank)
      AND NOT coalesce(ch.ruled_out, false)
      AND (len(sc.requires_any) = 0 OR coalesce(ch.n_any_possible, 0) > 0)
)
SELECT a.ai_system_id, a.ai_system_name, a.scenario_id, a.scenario_title, a.theme,
       CASE WHEN d.decision = 'identified' AND l.risk_id IS NOT NULL THEN 'identified'
            WHEN d.decision = 'not_applicable' THEN 'not_applicable'
            ELSE 'open' END AS state,
       CASE WHEN d.decision = 'identified' AND l.risk_id IS NOT NULL THEN d.risk_id END AS risk_id,
       CASE WHEN d.decision = 'not_applicable' THEN d.reason END AS reason,
       CASE WHEN d.decision = 'not_applicable' OR l.risk_id IS NOT NULL THEN d.decided_by END AS decided_by,
       CASE WHEN d.decision = 'not_applicable' OR l.risk_id IS NOT NULL THEN d.decided_at END AS decided_at,
       a.unrecorded, a.affects_individuals
FROM applicable a
LEFT JOIN ai_scenario_decisions d ON d.ai_system_id = a.ai_system_id AND d.scenario_id = a.scenario_id
LEFT JOIN risk_ai_systems l ON l.risk_id = d.risk_id AND l.ai_system_id = d.ai_system_id
ORDER BY a.ai_system_id, a.ordinal;
