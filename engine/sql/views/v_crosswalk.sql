-- v_crosswalk: every link between two controls of different frameworks, queryable from either side.
-- origin: 'authored' (a reviewed record in mappings/crosswalks), 'inverse' (the authored record read
-- backwards: subset_of <-> superset_of), 'inferred' (composed across frameworks; path names every hop).
-- relationship is of source to target (NIST IR 8477); strength 1-10 (0 for no_relationship); for an
-- inferred link it is the weakest link of the path. target_ref is NULL for no_relationship records.
CREATE OR REPLACE VIEW v_crosswalk AS
SELECT source_framework, source_ref, target_framework, target_ref, relationship, strength,
       rationale_type, justification, origin, path, depth, n_paths
FROM crosswalk_links;
