-- register_cells: the risk matrix cells of the filtered register (engine.register.browse.register_page,
-- the Risk register page's heat maps): how many risks sit in each likelihood x impact cell, inherent
-- and residual (stage), over the risks matching the page's filters (risk_register_filtered). The risks not
-- rated at a stage are one row of that stage with no likelihood and no impact, so every risk is counted.
WITH f AS (
    SELECT * FROM risk_register_filtered($systems::VARCHAR[], $statuses::VARCHAR[], $levels::VARCHAR[],
                                         $owners::VARCHAR[], $text)
)
SELECT 'inherent' AS stage, inherent_likelihood AS likelihood, inherent_impact AS impact, count(*) AS n
FROM f WHERE inherent_likelihood IS NOT NULL AND inherent_impact IS NOT NULL GROUP BY ALL
UNION ALL
SELECT 'residual' AS stage, residual_likelihood AS likelihood, residual_impact AS impact, count(*) AS n
FROM f WHERE residual_likelihood IS NOT NULL AND residual_impact IS NOT NULL GROUP BY ALL
UNION ALL
SELECT 'inherent', NULL, NULL, count(*) FROM f WHERE inherent_likelihood IS NULL OR inherent_impact IS NULL
HAVING count(*) > 0
UNION ALL
SELECT 'residual', NULL, NULL, count(*) FROM f WHERE residual_likelihood IS NULL OR residual_impact IS NULL
HAVING count(*) > 0
ORDER BY stage, likelihood NULLS FIRST, impact NULLS FIRST
