-- gaps: what remains for the target framework once the implemented controls of the source framework are
-- in place (engine.crosswalk.coverage.gaps: `riskmap gaps` and the app's Gap analysis page). One row per
-- control of $target whose kind is in $kinds, covered through the links in force from it to an
-- implemented control ($implemented, refs of $source): authored, inverse and inferred, as v_coverage
-- counts them; no_relationship records are not links.
--   coverage          rank_coverage of the closest such link: full, partial or none
--   max_strength      the strongest such link (0 when none)
--   covered_by        'ref (relationship, strength)' of the implemented controls covering it, closest first
--   remaining_effort  0 when fully covered, 10 - max_strength when partly, 10 when not at all
--   share             coverage_share: how much of the control's work the implemented controls do (0 to 1)
-- Most remaining work first, then catalog order.
WITH links AS (
    SELECT l.source_ref AS ref, l.target_ref, l.relationship, l.strength,
           relationship_rank(l.relationship) AS rnk
    FROM v_crosswalk l
    WHERE l.source_framework = $target AND l.target_framework = $source AND l.relationship <> 'no_relationship'
      AND list_contains($implemented::VARCHAR[], l.target_ref)
),
best AS (
    SELECT ref, max(rnk) AS rnk, max(strength) AS max_strength,
           string_agg(target_ref || ' (' || replace(relationship, '_', ' ') || ', ' || strength || ')', '; '
                      ORDER BY rnk DESC, strength DESC) AS covered_by
    FROM links GROUP BY ref
)
SELECT c.ref, c.title, c.kind, c.grp,
       rank_coverage(b.rnk) AS coverage,
       coalesce(b.max_strength, 0) AS max_strength,
       b.covered_by,
       CASE rank_coverage(b.rnk) WHEN 'full' THEN 0 WHEN 'partial' THEN 10 - coalesce(b.max_strength, 0)
                                 ELSE 10 END AS remaining_effort,
       coverage_share(rank_coverage(b.rnk), b.max_strength) AS share
FROM v_controls c LEFT JOIN best b ON b.ref = c.ref
WHERE c.framework = $target AND list_contains($kinds::VARCHAR[], c.kind)
ORDER BY remaining_effort DESC, c.ordinal
