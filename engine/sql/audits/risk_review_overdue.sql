-- risk_review_overdue: an open risk whose next review date has passed: the risk assessment is to be
-- performed at planned intervals (ISO 27001 8.2, ISO 42001 8.2). Dates compare with riskmap_today().
SELECT 'risk_review_overdue' AS rule, 'warning' AS severity, 'risk' AS entity, id AS entity_id,
       'review was due on ' || next_review || coalesce(', owner ' || owner, '') AS detail
FROM risks
WHERE risk_open(status) AND date_passed(next_review)
