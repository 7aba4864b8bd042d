-- mappings_in_force: every mapping record in force, one per pair of controls (mapping_pair, whichever
-- way round each is stored): the organisation's active tailoring (crosswalk_tailoring) over the shipped
-- record (mappings) over an imported one (imported_mappings; the most recent import first). What the
-- crosswalk inference (engine.crosswalk.inference) builds every link from, and what the OSCAL export writes.
-- With $with_tailoring false: the records beneath the tailoring, which a tailored record is compared with.
--   provenance    'tailored', 'shipped' or 'imported'
--   import_source the import a record came from (imported records only)
--   tailoring_id  the tailoring record (tailored records only)
WITH candidates AS (
    SELECT source_framework, source_ref, target_framework, target_ref, relationship, strength, rationale_type,
           justification, author, authored_on, review_status, reviewer, reviewed_on, 'tailoring' AS origin_file,
           'tailored' AS provenance, NULL::VARCHAR AS import_source, id AS tailoring_id,
           1 AS precedence, updated_at AS stamp
    FROM crosswalk_tailoring
    WHERE status = 'active' AND $with_tailoring
    UNION ALL
    SELECT source_framework, source_ref, target_framework, target_ref, relationship, strength, rationale_type,
           justification, author, authored_on, review_status, reviewer, reviewed_on, origin_file,
           'shipped', NULL, NULL, 2, NULL::TIMESTAMP
    FROM mappings
    UNION ALL
    SELECT source_framework, source_ref, target_framework, target_ref, relationship, strength, rationale_type,
           justification, author, authored_on, review_status, reviewer, reviewed_on, origin_file,
           'imported', import_source, NULL, 3, imported_at
    FROM imported_mappings
)
SELECT source_framework, source_ref, target_framework, target_ref, relationship, strength, rationale_type,
       justification, author, authored_on, review_status, reviewer, reviewed_on, origin_file, provenance,
       import_source, tailoring_id
FROM candidates
QUALIFY row_number() OVER (PARTITION BY mapping_pair(source_framework, source_ref, target_framework, target_ref)
                           ORDER BY precedence, stamp DESC NULLS LAST, import_source) = 1
