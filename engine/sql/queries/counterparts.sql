-- counterparts: every counterpart of one control ($framework, $ref) in the crosswalk, with the
-- counterpart's title, the relationship and strength, the justification and, for an inferred link, the
-- path it took (`riskmap counterparts`, the Overlap explorer's drill-down); no_relationship rows are pairs
-- considered and rejected (or, with no target, no counterpart in that framework at all). Each row says
-- where it comes from:
--   provenance     shipped, tailored or imported (inferred links: those of their hops)
--   review_status  the record's review status, reviewer who reviewed it (NULL for inferred links)
--   tailoring      the organisation's decision (accept, dispute, strengthen, weaken, add) on a tailored link
--   beneath        for a tailored link, the shipped or imported record it overrides, as it stands now
-- Authored links first, then their inverses, then inferred links; strongest first within each.
WITH records AS (
    SELECT 'shipped' AS provenance, 1 AS precedence, source_framework AS sf, source_ref AS sr,
           target_framework AS tf, target_ref AS tr, relationship AS rel, strength
    FROM mappings
    WHERE (source_framework = $framework AND source_ref = $ref) OR (target_framework = $framework AND target_ref = $ref)
    UNION ALL
    SELECT 'imported', 2, source_framework, source_ref, target_framework, target_ref, relationship, strength
    FROM imported_mappings
    WHERE (source_framework = $framework AND source_ref = $ref) OR (target_framework = $framework AND target_ref = $ref)
),
both_ways AS (
    SELECT provenance, precedence, sf, sr, tf, tr, rel, strength FROM records
    UNION ALL
    SELECT provenance, precedence, tf, tr, sf, sr, inverse_relationship(rel), strength FROM records WHERE tr <> ''
),
beneath AS (
    SELECT tf, tr, provenance || ': ' || rel || ' (' || strength || ')' AS beneath
    FROM both_ways WHERE sf = $framework AND sr = $ref
    QUALIFY row_number() OVER (PARTITION BY tf, tr ORDER BY precedence) = 1
),
tailored AS (
    SELECT target_framework AS tf, target_ref AS tr, decision FROM crosswalk_tailoring
    WHERE status = 'active' AND source_framework = $framework AND source_ref = $ref
    UNION ALL
    SELECT source_framework, source_ref, decision FROM crosswalk_tailoring
    WHERE status = 'active' AND target_framework = $framework AND target_ref = $ref
)
SELECT l.target_framework, l.target_ref, c.title AS target_title, l.relationship, l.strength,
       l.rationale_type, l.origin, l.justification, l.path, l.provenance, l.review_status, l.reviewer,
       t.decision AS tailoring, b.beneath
FROM v_crosswalk l
LEFT JOIN v_controls c ON c.framework = l.target_framework AND c.ref = l.target_ref
LEFT JOIN tailored t ON l.provenance = 'tailored' AND t.tf = l.target_framework AND t.tr = l.target_ref
LEFT JOIN beneath b ON l.provenance = 'tailored' AND b.tf = l.target_framework AND b.tr = l.target_ref
WHERE l.source_framework = $framework AND l.source_ref = $ref
ORDER BY CASE l.origin WHEN 'authored' THEN 0 WHEN 'inverse' THEN 1 ELSE 2 END,
         l.strength DESC, l.target_framework, l.target_ref
