-- v_ai_systems: the AI system inventory (ISO 42001 A.4, A.6; the organisation's role per 4.1), one
-- row per AI system with the risks that name it and its impact assessments (6.1.4, 8.4, A.5).
--   assessment_due      earliest next review of its current assessments
--   assessment_overdue  true when that date has passed (riskmap_today()), or when the system has no
--                       assessment
CREATE OR REPLACE VIEW v_ai_systems AS
WITH rk AS (
    SELECT rs.ai_system_id, count(*) AS n_risks, list(rs.risk_id ORDER BY rs.risk_id) AS risk_ids
    FROM risk_ai_systems rs
    GROUP BY rs.ai_system_id
), ia AS (
    SELECT ai_system_id, count(*) AS n_assessments, max(assessed_on) AS last_assessed_on,
           min(next_review_due) FILTER (WHERE status = 'current') AS assessment_due,
           list(id ORDER BY id) AS assessment_ids
    FROM impact_assessments
    GROUP BY ai_system_id
)
SELECT s.id, s.name, s.purpose, s.intended_use, s.lifecycle_stage, s.role, s.autonomy, s.human_oversight,
       s.data_sources, s.third_party_components, s.owner, s.status,
       coalesce(rk.n_risks, 0) AS n_risks,
       coalesce(rk.risk_ids, []::VARCHAR[]) AS risk_ids,
       coalesce(ia.n_assessments, 0) AS n_assessments,
       coalesce(ia.assessment_ids, []::VARCHAR[]) AS assessment_ids,
       ia.last_assessed_on, ia.assessment_due,
       coalesce(ia.n_assessments, 0) = 0 OR coalesce(date_passed(ia.assessment_due), false) AS assessment_overdue,
       s.version
FROM ai_systems s
LEFT JOIN rk ON rk.ai_system_id = s.id
LEFT JOIN ia ON ia.ai_system_id = s.id;
