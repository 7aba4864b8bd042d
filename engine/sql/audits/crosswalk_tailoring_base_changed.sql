-- crosswalk_tailoring_base_changed: an organisation's tailored mapping whose record beneath (shipped, or
-- imported) is no longer the one it was decided against: an upgrade of the shipped crosswalk or a
-- re-imported library changed its relationship, strength or justification, added a record where there
-- was none, or removed it. The tailored record still wins; review it against the record as it stands and
-- tailor the pair again (which records the new base) or withdraw it (ISO 27001 and ISO 42001 7.5.3:
-- changes to documented information are controlled).
WITH records AS (
    SELECT 'shipped' AS provenance, 1 AS precedence, NULL::TIMESTAMP AS stamp, source_framework AS sf,
           source_ref AS sr, target_framework AS tf, target_ref AS tr, relationship AS rel, strength, justification
    FROM mappings
    UNION ALL
    SELECT 'imported', 2, imported_at, source_framework, source_ref, target_framework, target_ref, relationship,
           strength, justification
    FROM imported_mappings
),
beneath AS (
    SELECT t.id, r.provenance, r.strength, r.justification,
           CASE WHEN r.sf = t.source_framework AND r.sr = t.source_ref THEN r.rel
                ELSE inverse_relationship(r.rel) END AS rel
    FROM crosswalk_tailoring t
    JOIN records r ON mapping_pair(r.sf, r.sr, r.tf, r.tr)
                      = mapping_pair(t.source_framework, t.source_ref, t.target_framework, t.target_ref)
    WHERE t.status = 'active'
    QUALIFY row_number() OVER (PARTITION BY t.id ORDER BY r.precedence, r.stamp DESC) = 1
)
SELECT 'crosswalk_tailoring_base_changed' AS rule, 'warning' AS severity, 'crosswalk_tailoring' AS entity,
       t.id AS entity_id,
       t.source_framework || ':' || t.source_ref || ' -> ' || t.target_framework || ':' || t.target_ref
       || ' (' || t.decision || ' by ' || t.tailored_by || ' on ' || t.tailored_on || '): the '
       || coalesce(b.provenance, t.base_provenance) || ' record beneath '
       || CASE WHEN b.id IS NULL THEN 'was removed'
               WHEN t.base_provenance IS NULL THEN 'was added as ' || b.rel || ' (' || b.strength || ')'
               WHEN b.rel = t.base_relationship AND b.strength = t.base_strength THEN 'has a new justification'
               ELSE 'changed from ' || t.base_relationship || ' (' || t.base_strength || ') to ' || b.rel
                    || ' (' || b.strength || ')' END
       || '; review the tailoring' AS detail
FROM crosswalk_tailoring t
LEFT JOIN beneath b ON b.id = t.id
WHERE t.status = 'active'
  AND (coalesce(b.rel, '') <> coalesce(t.base_relationship, '')
       OR coalesce(b.strength, -1) <> coalesce(t.base_strength, -1)
       OR coalesce(b.justification, '') <> coalesce(t.base_justification, ''))
