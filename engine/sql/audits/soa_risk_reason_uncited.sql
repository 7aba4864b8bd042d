-- soa_risk_reason_uncited: an SoA row included "for risk treatment" (ISO 27001 6.1.3 d) that no open
-- risk cites, directly or through an action of the treatment plan. The reason needs a risk behind it.
SELECT 'soa_risk_reason_uncited' AS rule, 'error' AS severity, 'soa_row' AS entity,
       framework || ':' || ref AS entity_id,
       'included for risk treatment but no open risk cites ' || framework || ':' || ref
           || '; link a risk or change the reason' AS detail
FROM v_soa
WHERE applicable AND list_contains(reasons, 'risk_treatment') AND len(risk_ids) = 0
