-- soa_proposals: what the register and the crosswalk propose for the SoA (engine.soa.proposals;
-- `riskmap soa propose`, the SoA page's Proposals tab); nothing changes until a person accepts one.
--   risk_treatment      a control cited by an open risk (v_soa.risk_ids) that is not yet applicable for
--                       risk treatment: proposed applicable with reason risk_treatment
--   counterpart_status  a 42001 control that an implemented 27001:2022 control reaches by a direct link:
--                       proposed implemented when that control contains it (contains_target), else
--                       partial; only upgrades, never on an excluded row. The evidence of those 27001
--                       controls (each item named by its control) is proposed for reuse.
-- summary is the proposal in one sentence, as the SoA import reports it.
-- A proposal rejected on the same basis (soa_proposal_decisions) is not shown again.
-- soa is v_soa computed once for the four places that read it (each computation aggregates every risk).
WITH soa AS MATERIALIZED (SELECT * FROM v_soa),
treatment AS (
    SELECT 'risk_treatment' AS kind, s.framework, s.ref,
           true AS proposed_applicable, 'risk_treatment' AS proposed_reason, NULL::VARCHAR AS proposed_status,
           'cited by ' || array_to_string(s.risk_ids, ', ') AS basis,
           NULL::VARCHAR[] AS sources, NULL::VARCHAR[] AS proposed_evidence
    FROM soa s
    WHERE len(s.risk_ids) > 0
      AND NOT (coalesce(s.applicable, false) AND list_contains(s.reasons, 'risk_treatment'))
),
implemented AS (
    SELECT framework, ref, evidence FROM soa WHERE soa_implemented(status, applicable)
),
candidates AS (
    SELECT l.target_framework AS framework, l.target_ref AS ref,
           contains_target(l.relationship) AS full_cover, l.strength,
           l.source_framework || ':' || l.source_ref || ' implemented, ' || l.relationship
               || ' (' || l.strength || ')' AS why,
           l.source_ref, list_transform(i.evidence, e -> '27001 ' || l.source_ref || ': ' || e) AS evidence
    FROM crosswalk_links l
    JOIN implemented i ON i.framework = l.source_framework AND i.ref = l.source_ref
    WHERE l.origin IN ('authored', 'inverse') AND l.relationship <> 'no_relationship'
      AND l.source_framework = 'iso27001-2022' AND l.target_framework = 'iso42001-2023'
),
best AS (
    SELECT framework, ref, CASE WHEN bool_or(full_cover) THEN 'implemented' ELSE 'partial' END AS proposed_status,
           list(why ORDER BY full_cover DESC, strength DESC, why) AS whys,
           list(DISTINCT source_ref ORDER BY source_ref) AS sources,
           list_distinct(flatten(list(evidence ORDER BY source_ref))) AS evidence
    FROM candidates GROUP BY framework, ref
),
coverage AS (
    SELECT 'counterpart_status' AS kind, s.framework, s.ref,
           NULL::BOOLEAN AS proposed_applicable, NULL::VARCHAR AS proposed_reason, b.proposed_status,
           'counterparts: ' || array_to_string(b.whys, '; ') AS basis,
           b.sources, b.evidence AS proposed_evidence
    FROM best b JOIN soa s ON s.framework = b.framework AND s.ref = b.ref
    WHERE soa_not_excluded(s.applicable)
      AND (CASE b.proposed_status WHEN 'implemented' THEN 3 ELSE 2 END)
          > (CASE s.status WHEN 'implemented' THEN 3 WHEN 'partial' THEN 2 WHEN 'planned' THEN 1 ELSE 0 END)
),
allp AS (SELECT * FROM treatment UNION ALL SELECT * FROM coverage)
SELECT p.framework || ':' || p.ref || '/' || p.kind AS proposal_id, p.kind, p.framework, p.ref, s.title,
       s.applicable AS current_applicable, s.reasons AS current_reasons, s.status AS current_status,
       p.proposed_applicable, p.proposed_reason, p.proposed_status, p.basis, s.risk_ids,
       s.version AS row_version,
       CASE p.kind WHEN 'counterpart_status' THEN
           '27001 ' || array_to_string(p.sources, ', ') || ' implemented: 42001 ' || p.ref
           || CASE p.proposed_status WHEN 'implemented' THEN ' covered' ELSE ' partly covered' END
           || CASE WHEN len(p.proposed_evidence) > 0 THEN ', reuse its evidence' ELSE '' END
       ELSE p.ref || ' cited by open risks ' || array_to_string(s.risk_ids, ', ') || ': applicable for risk treatment'
       END AS summary,
       coalesce(p.proposed_evidence, []::VARCHAR[]) AS proposed_evidence
FROM allp p JOIN soa s ON s.framework = p.framework AND s.ref = p.ref
WHERE NOT EXISTS (SELECT 1 FROM soa_proposal_decisions d
                  WHERE d.framework = p.framework AND d.ref = p.ref AND d.kind = p.kind
                    AND d.basis = p.basis AND d.decision = 'rejected')
ORDER BY CASE p.framework WHEN 'iso27001-2022' THEN 1 WHEN 'iso42001-2023' THEN 2 ELSE 3 END, s.ordinal, p.kind
