-- acceptance_expired: an open risk whose recorded acceptance of residual risk has expired
-- (ISO 27001 6.1.3 f, 8.2; ISO 42001 6.1.3 g). Dates compare with riskmap_today().
SELECT 'acceptance_expired' AS rule, 'error' AS severity, 'risk' AS entity, id AS entity_id,
       'acceptance by ' || coalesce(acceptance_approver, '?') || ' expired on ' || acceptance_expiry AS detail
FROM risks
WHERE risk_open(status) AND date_passed(acceptance_expiry)
