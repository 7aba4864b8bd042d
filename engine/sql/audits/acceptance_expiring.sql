-- acceptance_expiring: an open risk whose recorded acceptance of residual risk expires within the next 30
-- days (acceptance_expires_soon): the risk owner is to renew or revisit it before it lapses (ISO 27001
-- 6.1.3 f, 8.2; ISO 42001 6.1.3 g). An acceptance already expired is acceptance_expired.
SELECT 'acceptance_expiring' AS rule, 'warning' AS severity, 'risk' AS entity, id AS entity_id,
       'acceptance by ' || coalesce(acceptance_approver, '?') || ' expires on ' || acceptance_expiry AS detail
FROM risks
WHERE risk_open(status) AND acceptance_expires_soon(acceptance_expiry)
