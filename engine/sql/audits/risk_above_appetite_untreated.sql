-- risk_above_appetite_untreated: an open risk scoring above the appetite of its risk matrix version with
-- neither a treatment decision nor a recorded acceptance (ISO 27001 6.1.3 a, ISO 42001 6.1.3 a).
-- A risk retained ('retain') above appetite needs a recorded acceptance too.
SELECT 'risk_above_appetite_untreated' AS rule, 'error' AS severity, 'risk' AS entity, r.id AS entity_id,
       'score ' || s.score || ' is above appetite ' || m.appetite
           || CASE WHEN r.treatment = 'retain' THEN '; retained without a recorded acceptance'
                   ELSE '; no treatment and no acceptance' END AS detail
FROM risks r
JOIN risk_matrix_versions m ON m.version = r.matrix_version
CROSS JOIN LATERAL (SELECT risk_score(r.current_likelihood, r.current_impact,
                                      r.inherent_likelihood, r.inherent_impact) AS score) s
WHERE risk_open(r.status) AND NOT within_appetite(s.score, m.appetite)
  AND (r.treatment IS NULL OR r.treatment = 'retain')
  AND r.acceptance_approver IS NULL
