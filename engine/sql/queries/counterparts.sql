-- counterparts: every counterpart of one control ($framework, $ref) in the crosswalk, with the
-- counterpart's title, the relationship and strength, the justification and, for an inferred link, the
-- path it took (`riskmap counterparts`, the Overlap explorer's drill-down). Authored links first, then
-- their inverses, then inferred links; strongest first within each.
SELECT l.target_framework, l.target_ref, c.title AS target_title, l.relationship, l.strength,
       l.rationale_type, l.origin, l.justification, l.path
FROM v_crosswalk l
LEFT JOIN v_controls c ON c.framework = l.target_framework AND c.ref = l.target_ref
WHERE l.source_framework = $framework AND l.source_ref = $ref
ORDER BY CASE l.origin WHEN 'authored' THEN 0 WHEN 'inverse' THEN 1 ELSE 2 END,
         l.strength DESC, l.target_framework, l.target_ref
