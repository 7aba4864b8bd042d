-- v_crosswalk: every link between two controls of different frameworks, queryable from either side.
-- Built from the mapping records in force: for each pair the organisation's tailored record, else the
-- shipped record (mappings/crosswalks), else an imported one (provenance says which).
-- origin: 'authored' (the record as written), 'inverse' (the record read backwards: subset_of <->
-- superset_of), 'inferred' (composed across frameworks for a pair no record decides; path names every hop).
-- relationship is of source to target (NIST IR 8477); strength 1-10 (0 for no_relationship); for an
-- inferred link it is the weakest link of the path. A no_relationship link with a target_ref records a
-- pair considered and rejected; with target_ref NULL, that the source has no counterpart in that framework.
-- review_status and reviewer are the record's ('authored': written, not independently reviewed; 'reviewed'
-- by the person named in reviewer); NULL for inferred links.
-- provenance: 'shipped', 'tailored' or 'imported'; for an inferred link those of its hops ('shipped+imported').
CREATE OR REPLACE VIEW v_crosswalk AS
SELECT source_framework, source_ref, target_framework, target_ref, relationship, strength,
       rationale_type, justification, origin, path, depth, n_paths, review_status, reviewer, provenance
FROM crosswalk_links;
