-- history_changes: the change history (v_history) as the History page and its export list it, newest
-- first, filtered by record ($entity, $entity_id: exact, case-insensitive), person ($person: their stable id or
-- display name, case-insensitive), $channel and a date range ($since, $until: whole days, inclusive),
-- each filter ignored when NULL. A risk's changes (and those of records belonging to a risk: its control
-- suggestions) are listed only when the session may see the risk's business unit (unit_visible); other
-- records (the SoA, actions, the inventories) belong to the whole organisation. matched: how many rows
-- pass the filters before $max_rows cuts the list.
WITH visible AS (
    SELECT h.*
    FROM v_history h
    LEFT JOIN control_suggestions cs ON h.entity = 'control_suggestion' AND cs.id = h.entity_id
    LEFT JOIN risks r ON r.id = CASE h.entity WHEN 'risk' THEN h.entity_id
                                              WHEN 'control_suggestion' THEN cs.risk_id END
    WHERE h.entity NOT IN ('risk', 'control_suggestion') OR unit_visible(r.business_unit)
)
SELECT id, changed_at, actor, actor_name, channel, entity, entity_id, action, field, old_value, new_value,
       batch_id, count(*) OVER () AS matched
FROM visible
WHERE ($entity IS NULL OR entity = $entity)
  AND ($entity_id IS NULL OR lower(entity_id) = lower($entity_id))
  AND ($person IS NULL OR lower(actor) = lower($person) OR lower(actor_name) = lower($person))
  AND ($channel IS NULL OR channel = $channel)
  AND ($since IS NULL OR CAST(changed_at AS DATE) >= $since)
  AND ($until IS NULL OR CAST(changed_at AS DATE) <= $until)
ORDER BY id DESC
LIMIT $max_rows
