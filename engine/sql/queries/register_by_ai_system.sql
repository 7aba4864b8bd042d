-- register_by_ai_system: the filtered register (register_filtered: the page request's
-- risk_register_filtered, engine.register.browse) per AI system the risks name and
-- per level: ai_system (its name), level, n risks. The Risk register page's "Risks by AI system" chart.
SELECT s.name AS ai_system, f.level, count(*) AS n
FROM register_filtered f
JOIN (SELECT name, unnest(risk_ids) AS risk_id FROM v_ai_systems) s ON s.risk_id = f.id
GROUP BY ALL ORDER BY ai_system, level
