-- ai_coverage: identification coverage per AI system (every system, also one no scenario applies to):
-- applicable scenarios and how many are identified, not applicable and open (v_ai_risk_identification),
-- characteristics not recorded (v_ai_characteristics), and fully_assessed (no open scenario).
WITH st AS (
    SELECT ai_system_id, count(*) AS n_applicable,
           count(*) FILTER (WHERE state = 'identified') AS n_identified,
           count(*) FILTER (WHERE state = 'not_applicable') AS n_not_applicable,
           count(*) FILTER (WHERE state = 'open') AS n_open
    FROM v_ai_risk_identification GROUP BY ai_system_id
), ch AS (
    SELECT ai_system_id, count(*) FILTER (WHERE NOT recorded) AS n_unrecorded
    FROM v_ai_characteristics GROUP BY ai_system_id
)
SELECT s.id AS ai_system_id, s.name AS ai_system_name, s.lifecycle_stage, s.role,
       coalesce(st.n_applicable, 0) AS n_applicable, coalesce(st.n_identified, 0) AS n_identified,
       coalesce(st.n_not_applicable, 0) AS n_not_applicable, coalesce(st.n_open, 0) AS n_open,
       coalesce(ch.n_unrecorded, 0) AS n_unrecorded, coalesce(st.n_open, 0) = 0 AS fully_assessed
FROM ai_systems s
LEFT JOIN st ON st.ai_system_id = s.id
LEFT JOIN ch ON ch.ai_system_id = s.id
ORDER BY s.id
