-- ai_summary: the Overview's AI identification figures, one row: AI systems, those fully assessed (no
-- open scenario in v_ai_risk_identification), open scenarios, and entries of observed AI use no
-- registered system matches (v_ai_usage unregistered).
WITH per AS (
    SELECT ai_system_id, count(*) FILTER (WHERE state = 'open') AS n_open
    FROM v_ai_risk_identification
    GROUP BY ai_system_id
)
SELECT (SELECT count(*) FROM ai_systems) AS systems,
       (SELECT count(*) FROM ai_systems s
        WHERE NOT EXISTS (SELECT 1 FROM per WHERE per.ai_system_id = s.id AND per.n_open > 0)) AS fully_assessed,
       (SELECT coalesce(sum(n_open), 0) FROM per) AS open_scenarios,
       (SELECT count(*) FROM v_ai_usage WHERE unregistered) AS unregistered_use
