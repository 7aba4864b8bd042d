-- tailorings: the organisation's tailored mapping records (engine.crosswalk.tailoring.tailorings_frame:
-- `riskmap tailor list`, the Overlap explorer), active ones unless $include_withdrawn, newest first:
--   pair       'framework:ref -> framework:ref' in the direction the record is kept
--   now        the relationship and strength in force for the organisation
--   beneath    the shipped or imported record it was decided against, as it was then ('none': an added link)
SELECT t.id, t.source_framework || ':' || t.source_ref || ' -> ' || t.target_framework || ':' || t.target_ref AS pair,
       t.decision, t.relationship || ' (' || t.strength || ')' AS now,
       coalesce(t.base_provenance || ': ' || t.base_relationship || ' (' || t.base_strength || ')', 'none') AS beneath,
       t.reason, t.tailored_by, t.tailored_on, t.status, t.version,
       t.source_framework, t.source_ref, t.target_framework, t.target_ref, t.relationship, t.strength
FROM crosswalk_tailoring t
WHERE $include_withdrawn OR t.status = 'active'
ORDER BY t.updated_at DESC, t.id DESC
