-- v_history: every recorded change (who, when, through which channel, which record, which field,
-- old and new value), oldest first. The history table is append-only; this view is its readable face.
--   actor      the stable id of the principal who made the change: the sign-in e-mail, the operating
--              system account, a scheduled job's service identity (or the name an API caller gave)
--   actor_name the principal's display name (its id for changes recorded before names were kept)
--   channel    app | cli | import | api | demo
--   action     create | update | link | unlink | merge | unmerge | rescore | ...
--   batch_id   the import batch, merge or operation the change belongs to
CREATE OR REPLACE VIEW v_history AS
SELECT id, changed_at, actor, channel, entity, entity_id, action, field, old_value, new_value, batch_id,
       coalesce(actor_name, actor) AS actor_name
FROM history
ORDER BY id;
