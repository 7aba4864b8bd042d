-- soa_excluded_but_cited: an SoA row marked not applicable while open risks cite the control for their
-- treatment. Either the exclusion or the risks' treatment is wrong (ISO 27001 6.1.3 c-d).
SELECT 'soa_excluded_but_cited' AS rule, 'warning' AS severity, 'soa_row' AS entity,
       framework || ':' || ref AS entity_id,
       framework || ':' || ref || ' is not applicable but cited by ' || array_to_string(risk_ids, ', ') AS detail
FROM v_soa
WHERE applicable = false AND len(risk_ids) > 0
