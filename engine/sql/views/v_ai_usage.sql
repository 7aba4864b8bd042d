-- v_ai_usage: AI use observed by a proxy, CASB or expense export (`riskmap import ai-usage`), each entry matched
-- to the AI system inventory (ISO 42001 4.3 scope, A.4.2; ISO 27001 A.5.9) or flagged as AI use nobody
-- registered. Matching is done here, so registering a system, or recording its vendor or domain, matches
-- the entries at once. An entry matches a system by, in this order:
--   domain  its host name is one of the system's domains or a sub-domain of one (chat.example.ai, example.ai)
--   name    the words of the tool's name are all in the system's name, or the other way round
--   vendor  the words of the system's vendor are all in the entry's vendor, or in the tool's name
-- The host and name rules are the macros ai_host(text) and ai_name_words(text) (engine/sql/macros.sql), the
-- same the importer uses.
--   unregistered  no system matches and nobody dismissed the entry with a reason
--   dismissed_by, dismissed_at  who recorded the dismissal reason and when (from the history)
CREATE OR REPLACE VIEW v_ai_usage AS
WITH sys AS (
    SELECT id, name, ai_name_words(name) AS name_words, ai_name_words(vendor) AS vendor_words,
           list_filter(list_transform(coalesce(domains, []::VARCHAR[]), lambda d: ai_host(d)),
                       lambda h: h IS NOT NULL) AS hosts
    FROM ai_systems
),
seen AS (
    SELECT u.*, ai_host(u.domain) AS host, ai_name_words(u.tool) AS tool_words,
           ai_name_words(u.vendor) AS seen_vendor_words
    FROM ai_usage u
),
candidates AS (
    SELECT u.id AS usage_id, s.id AS ai_system_id, s.name AS ai_system_name,
           CASE WHEN u.host IS NOT NULL
                     AND list_bool_or(list_transform(s.hosts, lambda h: u.host = h OR ends_with(u.host, '.' || h)))
                THEN 1
                WHEN len(u.tool_words) > 0 AND len(s.name_words) > 0
                     AND (list_has_all(s.name_words, u.tool_words) OR list_has_all(u.tool_words, s.name_words))
                THEN 2
                WHEN len(s.vendor_words) > 0
                     AND ((len(u.seen_vendor_words) > 0 AND list_has_all(u.seen_vendor_words, s.vendor_words))
                          OR list_has_all(u.tool_words, s.vendor_words))
                THEN 3 END AS how
    FROM seen u CROSS JOIN sys s
),
dismissal AS (   -- who dismissed an entry and when: the last change of its reason in the history
    SELECT entity_id AS usage_id, arg_max(actor, id) AS dismissed_by, arg_max(changed_at, id) AS dismissed_at
    FROM history
    WHERE entity = 'ai_usage' AND field = 'dismissed_reason'
    GROUP BY entity_id
),
best AS (
    SELECT usage_id, ai_system_id, ai_system_name, ['domain', 'name', 'vendor'][how] AS matched_by
    FROM candidates
    WHERE how IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY usage_id ORDER BY how, ai_system_id) = 1
)
SELECT u.id, u.tool, u.host AS domain, u.vendor, u.category, u.department, u.user_count, u.first_seen,
       u.last_seen, u.source, b.ai_system_id, b.ai_system_name, b.matched_by,
       b.ai_system_id IS NULL AND u.dismissed_reason IS NULL AS unregistered,
       u.dismissed_reason,
       CASE WHEN u.dismissed_reason IS NOT NULL THEN d.dismissed_by END AS dismissed_by,
       CASE WHEN u.dismissed_reason IS NOT NULL THEN d.dismissed_at END AS dismissed_at, u.version
FROM seen u
LEFT JOIN best b ON b.usage_id = u.id
LEFT JOIN dismissal d ON d.usage_id = u.id
ORDER BY u.id;
