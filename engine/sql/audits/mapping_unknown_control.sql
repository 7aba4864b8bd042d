-- mapping_unknown_control: a reference to a control that is not in the loaded catalogs, wherever it is
-- stored: a risk's controls, an action's controls, an SoA decision, a shipped, imported or tailored mapping.
WITH refs AS (
    SELECT 'risk_control' AS entity, risk_id || ' -> ' || framework || ':' || ref AS entity_id, framework, ref
    FROM risk_controls
    UNION ALL
    SELECT 'action_control', action_id || ' -> ' || framework || ':' || ref, framework, ref
    FROM action_controls
    UNION ALL
    SELECT 'soa_row', framework || ':' || ref, framework, ref FROM soa_rows
    UNION ALL
    SELECT 'mapping', source_framework || ':' || source_ref || ' -> ' || target_framework || ':' || target_ref,
           source_framework, source_ref
    FROM mappings
    UNION ALL
    SELECT 'mapping', source_framework || ':' || source_ref || ' -> ' || target_framework || ':' || target_ref,
           target_framework, target_ref
    FROM mappings WHERE target_ref <> ''
    UNION ALL
    SELECT 'crosswalk_tailoring', id, source_framework, source_ref FROM crosswalk_tailoring
    UNION ALL
    SELECT 'crosswalk_tailoring', id, target_framework, target_ref FROM crosswalk_tailoring
    UNION ALL
    SELECT 'imported_mapping', import_source || ': ' || source_framework || ':' || source_ref || ' -> '
           || target_framework || ':' || target_ref, source_framework, source_ref
    FROM imported_mappings
    UNION ALL
    SELECT 'imported_mapping', import_source || ': ' || source_framework || ':' || source_ref || ' -> '
           || target_framework || ':' || target_ref, target_framework, target_ref
    FROM imported_mappings WHERE target_ref <> ''
)
SELECT 'mapping_unknown_control' AS rule, 'error' AS severity, r.entity, r.entity_id,
       'unknown control ' || r.framework || ':' || r.ref AS detail
FROM refs r
WHERE NOT EXISTS (SELECT 1 FROM controls c WHERE c.framework = r.framework AND c.ref = r.ref)
