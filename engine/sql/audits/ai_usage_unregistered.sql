-- ai_usage_unregistered: AI use observed by a proxy, CASB or expense export that matches no AI system of the
-- inventory and was not dismissed with a reason: AI in use outside the AI management system's scope and
-- controls (ISO 42001 4.3, A.4.2, A.9.2; ISO 27001 A.5.9, A.5.10). Register it, or dismiss it with a reason.
SELECT 'ai_usage_unregistered' AS rule, 'error' AS severity, 'ai_usage' AS entity, id AS entity_id,
       coalesce(tool, domain, vendor) || coalesce(' (' || CASE WHEN tool IS NOT NULL THEN domain END || ')', '')
           || coalesce(' used by ' || department, '')
           || coalesce(', ' || user_count || ' user(s)', '')
           || coalesce(', last seen ' || last_seen, '')
           || ': not in the AI system inventory' AS detail
FROM v_ai_usage
WHERE unregistered
