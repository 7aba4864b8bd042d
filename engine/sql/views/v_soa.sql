-- v_soa: the Statement of Applicability (ISO 27001 6.1.3 d, ISO 42001 6.1.3 f), working copy.
-- One row per Annex A control of ISO 27001:2022 and ISO 42001:2023 and per control of a custom
-- (organisation) framework, driven by the catalog: a control without a decision shows as undecided.
-- applicable: true / false / NULL (undecided); applicability spells it out.
-- reasons: inclusion reason codes (risk_treatment, legal_regulatory, contractual, business, best_practice).
-- risk_ids: open risks citing the control (risk_controls) or treated by an action implementing it.
-- implementing_actions: 'A-001: title' of the (not cancelled) actions implementing the control.
-- counterparts: 'framework:ref relationship (strength)' of direct crosswalk links (authored or inverse)
-- into the other standard, closest first; for custom controls, into either standard.
-- ai_systems (42001 rows): systems named on the row plus those of the risks citing the control;
-- impact_assessments: the live assessments (not superseded or withdrawn) of those systems.
CREATE OR REPLACE VIEW v_soa AS
WITH base AS (
    SELECT c.framework, c.ref, c.title, c.grp, c.theme, c.ordinal, f.custom,
           f.name || CASE WHEN f.custom THEN '' ELSE ':' || f.edition END AS standard
    FROM controls c JOIN frameworks f ON f.framework = c.framework
    WHERE c.kind = 'annex_a_control'
      AND (c.framework IN ('iso27001-2022', 'iso42001-2023') OR f.custom)
),
cited AS (
    SELECT rc.framework, rc.ref, rc.risk_id
    FROM risk_controls rc JOIN risks r ON r.id = rc.risk_id
    WHERE risk_open(r.status)
    UNION
    SELECT ac.framework, ac.ref, ar.risk_id
    FROM action_controls ac
    JOIN actions a ON a.id = ac.action_id AND action_in_plan(a.status)
    JOIN action_risks ar ON ar.action_id = ac.action_id
    JOIN risks r ON r.id = ar.risk_id
    WHERE risk_open(r.status)
),
risk_lists AS (
    SELECT framework, ref, list(DISTINCT risk_id ORDER BY risk_id) AS risk_ids
    FROM cited GROUP BY framework, ref
),
action_lists AS (
    SELECT ac.framework, ac.ref, list(a.id || ': ' || a.title ORDER BY a.id) AS implementing_actions
    FROM action_controls ac JOIN actions a ON a.id = ac.action_id
    WHERE action_in_plan(a.status)
    GROUP BY ac.framework, ac.ref
),
counterpart_lists AS (
    SELECT l.source_framework AS framework, l.source_ref AS ref,
           list(l.target_framework || ':' || l.target_ref || ' ' || l.relationship || ' (' || l.strength || ')'
                ORDER BY relationship_rank(l.relationship) DESC, l.strength DESC, l.target_framework,
                         l.target_ref) AS counterparts
    FROM crosswalk_links l
    JOIN base b ON b.framework = l.source_framework AND b.ref = l.source_ref
    WHERE l.origin IN ('authored', 'inverse') AND l.target_ref IS NOT NULL
      AND l.relationship <> 'no_relationship'
      AND CASE b.framework
              WHEN 'iso27001-2022' THEN l.target_framework = 'iso42001-2023'
              WHEN 'iso42001-2023' THEN l.target_framework = 'iso27001-2022'
              ELSE l.target_framework IN ('iso27001-2022', 'iso42001-2023') END
    GROUP BY l.source_framework, l.source_ref
),
ai_scope AS (
    SELECT framework, ref, ai_system_id FROM soa_row_ai_systems
    UNION
    SELECT c.framework, c.ref, ras.ai_system_id
    FROM cited c JOIN risk_ai_systems ras ON ras.risk_id = c.risk_id
    WHERE c.framework = 'iso42001-2023'
),
ai_lists AS (
    SELECT s.framework, s.ref, list(DISTINCT s.ai_system_id ORDER BY s.ai_system_id) AS ai_systems
    FROM ai_scope s GROUP BY s.framework, s.ref
),
ia_lists AS (
    SELECT s.framework, s.ref, list(DISTINCT ia.id ORDER BY ia.id) AS impact_assessments
    FROM ai_scope s JOIN impact_assessments ia ON ia.ai_system_id = s.ai_system_id
    WHERE assessment_live(ia.status)
    GROUP BY s.framework, s.ref
)
SELECT b.framework, b.standard, b.ref, b.title, b.grp, b.theme, b.custom,
       s.applicable,
       CASE s.applicable WHEN true THEN 'applicable' WHEN false THEN 'not applicable'
                         ELSE 'undecided' END AS applicability,
       coalesce(s.reasons, []::VARCHAR[]) AS reasons,
       coalesce(rl.risk_ids, []::VARCHAR[]) AS risk_ids,
       s.exclusion_reason, s.justification,
       coalesce(s.status, 'not_started') AS status,
       coalesce(al.implementing_actions, []::VARCHAR[]) AS implementing_actions,
       s.implementation_notes, s.owner,
       coalesce(s.evidence, []::VARCHAR[]) AS evidence,
       s.last_verified,
       coalesce(cl.counterparts, []::VARCHAR[]) AS counterparts,
       coalesce(ai.ai_systems, []::VARCHAR[]) AS ai_systems,
       coalesce(ia.impact_assessments, []::VARCHAR[]) AS impact_assessments,
       coalesce(s.version, 1) AS version,   -- name this in an edit (optimistic concurrency)
       s.updated_at, s.updated_by, b.ordinal
FROM base b
LEFT JOIN soa_rows s ON s.framework = b.framework AND s.ref = b.ref
LEFT JOIN risk_lists rl ON rl.framework = b.framework AND rl.ref = b.ref
LEFT JOIN action_lists al ON al.framework = b.framework AND al.ref = b.ref
LEFT JOIN counterpart_lists cl ON cl.framework = b.framework AND cl.ref = b.ref
LEFT JOIN ai_lists ai ON ai.framework = b.framework AND ai.ref = b.ref
LEFT JOIN ia_lists ia ON ia.framework = b.framework AND ia.ref = b.ref
ORDER BY CASE b.framework WHEN 'iso27001-2022' THEN 1 WHEN 'iso42001-2023' THEN 2 ELSE 3 END,
         b.framework, b.ordinal;
