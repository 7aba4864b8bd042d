-- register_cells: the risk matrix cells of the filtered register (engine.register.browse.register_page,
-- the Risk register page's heat maps): how many risks sit in each likelihood x impact cell, inherent
-- and residual (stage), over the risks matching the page's filters (register_filtered: the
-- page request's risk_register_filtered, engine.register.browse). The risks not
-- rated at a stage (no likelihood or no impact) are one row of that stage with neither, so every risk is
-- counted; one pass over the filtered risks per stage.
WITH f AS (SELECT inherent_likelihood, inherent_impact, residual_likelihood, residual_impact FROM register_filtered)
SELECT 'inherent' AS stage,
       CASE WHEN inherent_impact IS NOT NULL THEN inherent_likelihood END AS likelihood,
       CASE WHEN inherent_likelihood IS NOT NULL THEN inherent_impact END AS impact, count(*) AS n
FROM f GROUP BY ALL
UNION ALL
SELECT 'residual' AS stage,
       CASE WHEN residual_impact IS NOT NULL THEN residual_likelihood END AS likelihood,
       CASE WHEN residual_likelihood IS NOT NULL THEN residual_impact END AS impact, count(*) AS n
FROM f GROUP BY ALL
ORDER BY stage, likelihood NULLS FIRST, impact NULLS FIRST
