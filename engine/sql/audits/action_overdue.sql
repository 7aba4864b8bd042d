-- action_overdue: a treatment plan action still planned or in progress after its due date
-- (ISO 27001 6.1.3 e, ISO 42001 6.1.3 g). Dates compare with riskmap_today().
SELECT 'action_overdue' AS rule, 'warning' AS severity, 'action' AS entity, id AS entity_id,
       'due ' || due_date || ', status ' || replace(status, '_', ' ') || coalesce(', owner ' || owner, '') AS detail
FROM actions
WHERE action_open(status) AND date_passed(due_date)
