-- v_coverage: how far each clause and Annex A control is covered by each other framework.
-- coverage = 'full' when some counterpart is equal to it or contains it (relationship equal or
-- subset_of), 'partial' when a counterpart only overlaps it (superset_of, intersects_with),
-- 'none' when it has no counterpart (no links, or an explicit no_relationship record).
-- Counts authored and inverse links, and inferred ones (only inferred between frameworks not mapped directly).
CREATE OR REPLACE VIEW v_coverage AS
WITH fw_pairs AS (
    SELECT DISTINCT source_framework AS framework, target_framework AS counterpart_framework
    FROM crosswalk_links
),
ranked AS (
    SELECT source_framework AS framework, source_ref AS ref, target_framework AS counterpart_framework,
           max(relationship_rank(relationship)) AS best_rank,
           max(strength) AS max_strength,
           count(target_ref) AS n_links
    FROM crosswalk_links
    GROUP BY ALL
)
SELECT c.framework, c.ref, c.title, p.counterpart_framework,
       rank_relationship(r.best_rank) AS best_relationship,
       coalesce(r.max_strength, 0) AS max_strength,
       coalesce(r.n_links, 0) AS n_links,
       rank_coverage(r.best_rank) AS coverage,
       c.kind, c.grp, c.ordinal
FROM controls c
JOIN fw_pairs p ON p.framework = c.framework
LEFT JOIN ranked r ON r.framework = c.framework AND r.ref = c.ref
                  AND r.counterpart_framework = p.counterpart_framework
WHERE c.kind IN ('clause', 'annex_a_control');
