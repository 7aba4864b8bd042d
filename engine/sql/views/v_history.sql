-- v_history: every recorded change (who, when, through which channel, which record, which field,
-- old and new value), oldest first. The history table is append-only; this view is its readable face.
--   action   create | update | link | unlink | merge | unmerge | rescore | ...
--   batch_id the import batch, merge or operation the change belongs to
CREATE OR REPLACE VIEW v_history AS
SELECT id, changed_at, actor, channel, entity, entity_id, action, field, old_value, new_value, batch_id
FROM history
ORDER BY id;
