-- v_coverage: how far each clause and Annex A control is covered by each other framework.
-- coverage = 'full' when some counterpart is equal to it or contains it (relationship equal or
-- subset_of), 'partial' when a counterpart only overlaps it (superset_of, intersects_with),
-- 'none' when it has no counterpart (no links, or only no_relationship records).
-- Counts every link in force (authored, inverse, and inferred for the pairs no record decides);
-- n_links counts links only, not no_relationship records.
-- share: the strength-weighted estimate of how much of the control's work its counterparts do
-- (coverage_share: 1 when full, the strongest link's strength / 10 when partial, 0 when none); the
-- estimate for a set of controls is the mean of their shares.
-- implemented_coverage, implemented_share: the same, counting only the counterparts the SoA marks
-- implemented (soa_implemented): how much of the work the implemented controls already do.
CREATE OR REPLACE VIEW v_coverage AS
WITH fw_pairs AS (
    SELECT DISTINCT source_framework AS framework, target_framework AS counterpart_framework
    FROM crosswalk_links
),
implemented AS (
    SELECT framework, ref FROM soa_rows WHERE soa_implemented(status, applicable)
),
ranked AS (
    SELECT l.source_framework AS framework, l.source_ref AS ref, l.target_framework AS counterpart_framework,
           max(relationship_rank(l.relationship)) AS best_rank,
           max(l.strength) AS max_strength,
           count(l.target_ref) FILTER (WHERE l.relationship <> 'no_relationship') AS n_links,
           max(relationship_rank(l.relationship)) FILTER (WHERE i.ref IS NOT NULL) AS implemented_rank,
           max(l.strength) FILTER (WHERE i.ref IS NOT NULL) AS implemented_strength
    FROM crosswalk_links l
    LEFT JOIN implemented i ON i.framework = l.target_framework AND i.ref = l.target_ref
    GROUP BY ALL
)
SELECT c.framework, c.ref, c.title, p.counterpart_framework,
       rank_relationship(r.best_rank) AS best_relationship,
       coalesce(r.max_strength, 0) AS max_strength,
       coalesce(r.n_links, 0) AS n_links,
       rank_coverage(r.best_rank) AS coverage,
       c.kind, c.grp, c.ordinal,
       coverage_share(rank_coverage(r.best_rank), r.max_strength) AS share,
       rank_coverage(r.implemented_rank) AS implemented_coverage,
       coverage_share(rank_coverage(r.implemented_rank), r.implemented_strength) AS implemented_share
FROM controls c
JOIN fw_pairs p ON p.framework = c.framework
LEFT JOIN ranked r ON r.framework = c.framework AND r.ref = c.ref
                  AND r.counterpart_framework = p.counterpart_framework
WHERE c.kind IN ('clause', 'annex_a_control');
