-- v_impact_assessments: AI system impact assessments (ISO 42001 6.1.4, 8.4, A.5): who and what is
-- affected (individuals, groups, society), the consequences and severity, when assessed and when
-- the next review is due, with the AI system's name.
--   review_overdue  next_review_due has passed (riskmap_today())
CREATE OR REPLACE VIEW v_impact_assessments AS
SELECT ia.id, ia.ai_system_id, s.name AS ai_system_name, ia.title,
       ia.affected_individuals, ia.affected_groups, ia.societal_impacts, ia.consequences, ia.severity,
       ia.assessed_on, ia.assessor, ia.next_review_due,
       coalesce(date_passed(ia.next_review_due), false) AS review_overdue,
       ia.status, ia.version
FROM impact_assessments ia
LEFT JOIN ai_systems s ON s.id = ia.ai_system_id;
