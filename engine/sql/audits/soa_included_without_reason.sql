-- soa_included_without_reason: an SoA row marked applicable with no inclusion reason. The SoA must
-- justify inclusions as well as exclusions (ISO 27001 6.1.3 d, ISO 42001 6.1.3 f).
SELECT 'soa_included_without_reason' AS rule, 'warning' AS severity, 'soa_row' AS entity,
       framework || ':' || ref AS entity_id,
       framework || ':' || ref || ' is applicable but gives no inclusion reason' AS detail
FROM v_soa
WHERE applicable AND len(reasons) = 0
