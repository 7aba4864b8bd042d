-- register_by_asset: the filtered register (register_filtered: the page request's
-- risk_register_filtered, engine.register.browse) per asset the risks name and per
-- level: asset (its name), level, n risks. The Risk register page's "Risks by asset" chart.
SELECT a.name AS asset, f.level, count(*) AS n
FROM register_filtered f
JOIN (SELECT name, unnest(risk_ids) AS risk_id FROM v_assets) a ON a.risk_id = f.id
GROUP BY ALL ORDER BY asset, level
