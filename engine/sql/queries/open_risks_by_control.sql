-- open_risks_by_control: for each control of framework $framework that open risks cite (as an existing
-- or a planned control), how many open risks cite it (n_risks) and the highest score among them
-- (max_risk_score: risk_score, on each risk's own matrix version). The Gap analysis page shows them
-- beside each remaining control.
SELECT rc.ref, count(DISTINCT rc.risk_id) AS n_risks, max(r.score) AS max_risk_score
FROM v_risk_controls rc
JOIN risk_register_levels() r ON r.id = rc.risk_id
WHERE rc.framework = $framework AND risk_open(r.status)
GROUP BY rc.ref
