-- soa_excluded_without_justification: an SoA row marked not applicable with no justification for the
-- exclusion (ISO 27001 6.1.3 d, ISO 42001 6.1.3 f). The engine refuses this on edit; the rule catches
-- rows written by other means.
SELECT 'soa_excluded_without_justification' AS rule, 'error' AS severity, 'soa_row' AS entity,
       framework || ':' || ref AS entity_id,
       framework || ':' || ref || ' is not applicable but has no justification' AS detail
FROM v_soa
WHERE applicable = false AND trim(coalesce(justification, '')) = ''
