-- impact_assessments: the AI system impact assessments (v_impact_assessments) as the AI systems page
-- lists them, next review first, with two columns of its own: live (assessment_live: neither superseded
-- nor withdrawn) and days_overdue (days since next_review_due, as of riskmap_today(); negative when the
-- review is still to come).
SELECT *, assessment_live(status) AS live, riskmap_today() - next_review_due AS days_overdue
FROM v_impact_assessments
ORDER BY next_review_due NULLS LAST, id
