-- v_audit_findings: every finding of the consistency audits (engine/sql/audits/*.sql), one row per
-- offending record: rule, severity (error | warning), entity, entity_id, detail. Zero rows: healthy.
-- Generated from the rule files by `python -m engine.audit`; edit the rule files, not this one.
CREATE OR REPLACE VIEW v_audit_findings AS
SELECT rule, severity, entity, entity_id, detail FROM (
-- acceptance_expired: an open risk whose recorded acceptance of residual risk has expired
-- (ISO 27001 6.1.3 f, 8.2; ISO 42001 6.1.3 g). Dates compare with getvariable('riskmap_today') when set.
SELECT 'acceptance_expired' AS rule, 'error' AS severity, 'risk' AS entity, id AS entity_id,
       'acceptance by ' || coalesce(acceptance_approver, '?') || ' expired on ' || acceptance_expiry AS detail
FROM risks
WHERE status <> 'closed' AND acceptance_expiry IS NOT NULL
  AND acceptance_expiry < coalesce(getvariable('riskmap_today')::DATE, current_date)
)
UNION ALL
SELECT rule, severity, entity, entity_id, detail FROM (
-- action_overdue: a treatment plan action still planned or in progress after its due date
-- (ISO 27001 6.1.3 e, ISO 42001 6.1.3 g). Dates compare with getvariable('riskmap_today') when set.
SELECT 'action_overdue' AS rule, 'warning' AS severity, 'action' AS entity, id AS entity_id,
       'due ' || due_date || ', status ' || status || coalesce(', owner ' || owner, '') AS detail
FROM actions
WHERE status IN ('planned', 'in_progress')
  AND due_date < coalesce(getvariable('riskmap_today')::DATE, current_date)
)
UNION ALL
SELECT rule, severity, entity, entity_id, detail FROM (
-- ai_scenario_open: an AI system in scope of the ISO 42001 SoA (named by an applicable or undecided 42001
-- row) to which risk scenarios of the library apply that are neither identified as a register risk nor
-- recorded as not applicable with a reason (ISO 42001 6.1.2 c, 8.2, Annex C). One row per system.
WITH in_scope AS (
    SELECT DISTINCT sys.id AS ai_system_id
    FROM v_soa s, unnest(s.ai_systems) AS sys(id)
    WHERE s.framework = 'iso42001-2023' AND coalesce(s.applicable, true)
)
SELECT 'ai_scenario_open' AS rule, 'warning' AS severity, 'ai_system' AS entity, i.ai_system_id AS entity_id,
       count(*) || ' applicable risk scenario(s) neither identified nor ruled out: '
           || array_to_string(list(i.scenario_id ORDER BY i.scenario_id), ', ') AS detail
FROM v_ai_risk_identification i
JOIN in_scope sc ON sc.ai_system_id = i.ai_system_id
WHERE i.state = 'open'
GROUP BY i.ai_system_id
)
UNION ALL
SELECT rule, severity, entity, entity_id, detail FROM (
-- ai_scenario_without_impact_assessment: an AI system to which risk scenarios with consequences for
-- individuals or society apply (identified or still open) while it has no current impact assessment: one
-- with status current whose review date has not passed (ISO 42001 6.1.4, 8.4, A.5.2). Names the scenarios.
-- Dates compare with getvariable('riskmap_today') when set.
WITH assessed AS (
    SELECT DISTINCT ai_system_id
    FROM impact_assessments
    WHERE status = 'current'
      AND (next_review_due IS NULL
           OR next_review_due >= coalesce(getvariable('riskmap_today')::DATE, current_date))
)
SELECT 'ai_scenario_without_impact_assessment' AS rule, 'error' AS severity, 'ai_system' AS entity,
       i.ai_system_id AS entity_id,
       'no current impact assessment, although scenarios with consequences for individuals or society apply: '
           || array_to_string(list(i.scenario_id ORDER BY i.scenario_id), ', ') AS detail
FROM v_ai_risk_identification i
WHERE i.affects_individuals AND i.state <> 'not_applicable'
  AND NOT EXISTS (SELECT 1 FROM assessed a WHERE a.ai_system_id = i.ai_system_id)
GROUP BY i.ai_system_id
)
UNION ALL
SELECT rule, severity, entity, entity_id, detail FROM (
-- ai_usage_unregistered: AI use observed by a proxy, CASB or expense export that matches no AI system of the
-- inventory and was not dismissed with a reason: AI in use outside the AI management system's scope and
-- controls (ISO 42001 4.3, A.4.2, A.9.2; ISO 27001 A.5.9, A.5.10). Register it, or dismiss it with a reason.
SELECT 'ai_usage_unregistered' AS rule, 'error' AS severity, 'ai_usage' AS entity, id AS entity_id,
       coalesce(tool, domain, vendor) || coalesce(' (' || CASE WHEN tool IS NOT NULL THEN domain END || ')', '')
           || coalesce(' used by ' || department, '')
           || coalesce(', ' || user_count || ' user(s)', '')
           || coalesce(', last seen ' || last_seen, '')
           || ': not in the AI system inventory' AS detail
FROM v_ai_usage
WHERE unregistered
)
UNION ALL
SELECT rule, severity, entity, entity_id, detail FROM (
-- mapping_unknown_control: a reference to a control that is not in the loaded catalogs, wherever it is
-- stored: a risk's controls, an action's controls, an SoA decision, an authored crosswalk mapping.
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
)
SELECT 'mapping_unknown_control' AS rule, 'error' AS severity, r.entity, r.entity_id,
       'unknown control ' || r.framework || ':' || r.ref AS detail
FROM refs r
WHERE NOT EXISTS (SELECT 1 FROM controls c WHERE c.framework = r.framework AND c.ref = r.ref)
)
UNION ALL
SELECT rule, severity, entity, entity_id, detail FROM (
-- risk_above_appetite_untreated: an open risk scoring above the appetite of its risk matrix version with
-- neither a treatment decision nor a recorded acceptance (ISO 27001 6.1.3 a, ISO 42001 6.1.3 a).
-- A risk retained ('retain') above appetite needs a recorded acceptance too.
SELECT 'risk_above_appetite_untreated' AS rule, 'error' AS severity, 'risk' AS entity, r.id AS entity_id,
       'score ' || s.score || ' is above appetite ' || m.appetite
           || CASE WHEN r.treatment = 'retain' THEN '; retained without a recorded acceptance'
                   ELSE '; no treatment and no acceptance' END AS detail
FROM risks r
JOIN risk_matrix_versions m ON m.version = r.matrix_version
CROSS JOIN LATERAL (SELECT coalesce(r.current_likelihood * r.current_impact,
                                    r.inherent_likelihood * r.inherent_impact) AS score) s
WHERE r.status <> 'closed' AND s.score > m.appetite
  AND (r.treatment IS NULL OR r.treatment = 'retain')
  AND r.acceptance_approver IS NULL
)
UNION ALL
SELECT rule, severity, entity, entity_id, detail FROM (
-- soa_ai_system_without_impact_assessment: a 42001 SoA row with AI systems in scope, some of which have
-- no live impact assessment (ISO 42001 6.1.4, 8.4, A.5). One row per SoA row, naming the systems.
WITH missing AS (
    SELECT s.framework, s.ref, sys.id AS ai_system_id
    FROM v_soa s, unnest(s.ai_systems) AS sys(id)
    WHERE s.framework = 'iso42001-2023' AND coalesce(s.applicable, true)
      AND NOT EXISTS (SELECT 1 FROM impact_assessments ia
                      WHERE ia.ai_system_id = sys.id
                        AND coalesce(ia.status, '') NOT IN ('superseded', 'withdrawn'))
)
SELECT 'soa_ai_system_without_impact_assessment' AS rule, 'error' AS severity, 'soa_row' AS entity,
       framework || ':' || ref AS entity_id,
       'AI systems in scope without an impact assessment: '
           || array_to_string(list(ai_system_id ORDER BY ai_system_id), ', ') AS detail
FROM missing
GROUP BY framework, ref
)
UNION ALL
SELECT rule, severity, entity, entity_id, detail FROM (
-- soa_excluded_but_cited: an SoA row marked not applicable while open risks cite the control for their
-- treatment. Either the exclusion or the risks' treatment is wrong (ISO 27001 6.1.3 c-d).
SELECT 'soa_excluded_but_cited' AS rule, 'warning' AS severity, 'soa_row' AS entity,
       framework || ':' || ref AS entity_id,
       framework || ':' || ref || ' is not applicable but cited by ' || array_to_string(risk_ids, ', ') AS detail
FROM v_soa
WHERE applicable = false AND len(risk_ids) > 0
)
UNION ALL
SELECT rule, severity, entity, entity_id, detail FROM (
-- soa_excluded_without_justification: an SoA row marked not applicable with no justification for the
-- exclusion (ISO 27001 6.1.3 d, ISO 42001 6.1.3 f). The engine refuses this on edit; the rule catches
-- rows written by other means.
SELECT 'soa_excluded_without_justification' AS rule, 'error' AS severity, 'soa_row' AS entity,
       framework || ':' || ref AS entity_id,
       framework || ':' || ref || ' is not applicable but has no justification' AS detail
FROM v_soa
WHERE applicable = false AND trim(coalesce(justification, '')) = ''
)
UNION ALL
SELECT rule, severity, entity, entity_id, detail FROM (
-- soa_included_without_reason: an SoA row marked applicable with no inclusion reason. The SoA must
-- justify inclusions as well as exclusions (ISO 27001 6.1.3 d, ISO 42001 6.1.3 f).
SELECT 'soa_included_without_reason' AS rule, 'warning' AS severity, 'soa_row' AS entity,
       framework || ':' || ref AS entity_id,
       framework || ':' || ref || ' is applicable but gives no inclusion reason' AS detail
FROM v_soa
WHERE applicable AND len(reasons) = 0
)
UNION ALL
SELECT rule, severity, entity, entity_id, detail FROM (
-- soa_risk_reason_uncited: an SoA row included "for risk treatment" (ISO 27001 6.1.3 d) that no open
-- risk cites, directly or through an action of the treatment plan. The reason needs a risk behind it.
SELECT 'soa_risk_reason_uncited' AS rule, 'error' AS severity, 'soa_row' AS entity,
       framework || ':' || ref AS entity_id,
       'included for risk treatment but no open risk cites ' || framework || ':' || ref
           || '; link a risk or change the reason' AS detail
FROM v_soa
WHERE applicable AND list_contains(reasons, 'risk_treatment') AND len(risk_ids) = 0
);
