-- A small organisation for the app tests, used until the demo organisation (`riskmap demo`) is available.
INSERT INTO assets (id, name, asset_type, owner) VALUES
 ('AS-01', 'Customer database', 'information', 'Data office'),
 ('AS-02', 'Model training cluster', 'hardware', 'ML platform'),
 ('AS-03', 'Support chatbot', 'software', 'Customer care');
INSERT INTO ai_systems (id, name, purpose, lifecycle_stage, role, autonomy, owner) VALUES
 ('AI-01', 'Support chatbot', 'Answers customer questions', 'operation', 'provider', 'human-on-the-loop', 'Customer care'),
 ('AI-02', 'Credit scoring model', 'Scores loan applications', 'deployment', 'developer', 'decision support', 'Risk office'),
 ('AI-03', 'CV screening pilot', 'Ranks job applications', 'design', 'user', 'decision support', 'HR');
INSERT INTO impact_assessments (id, ai_system_id, title, severity, assessed_on, assessor, next_review_due, status) VALUES
 ('IA-01', 'AI-01', 'Chatbot impact on customers', 'medium', DATE '2025-06-01', 'J. Doe', DATE '2026-06-01', 'current'),
 ('IA-02', 'AI-02', 'Credit scoring fairness', 'high', DATE '2024-01-10', 'A. Roe', DATE '2025-01-10', 'current');
INSERT INTO risks (id, title, management_system, owner, status, inherent_likelihood, inherent_impact,
                   current_likelihood, current_impact, residual_likelihood, residual_impact, matrix_version,
                   treatment, created_at, updated_at) VALUES
 ('R-0001', 'Customer data leaked through misconfigured storage', 'ISMS', 'Data office', 'open', 4, 5, 3, 5, 2, 3, 1, 'modify', TIMESTAMP '2026-01-06 10:00:00', TIMESTAMP '2026-01-06 10:00:00'),
 ('R-0002', 'Chatbot gives harmful advice', 'AIMS', 'Customer care', 'open', 3, 4, 3, 4, 2, 2, 1, 'modify', TIMESTAMP '2026-01-06 10:00:00', TIMESTAMP '2026-01-06 10:00:00'),
 ('R-0003', 'Credit model discriminates against a protected group', 'AIMS', 'Risk office', 'open', 3, 5, 3, 5, 2, 4, 1, 'modify', TIMESTAMP '2026-01-06 10:00:00', TIMESTAMP '2026-01-06 10:00:00'),
 ('R-0004', 'Training data poisoned by a supplier', 'both', 'ML platform', 'open', 2, 4, 2, 4, 1, 4, 1, NULL, TIMESTAMP '2026-01-06 10:00:00', TIMESTAMP '2026-01-06 10:00:00'),
 ('R-0005', 'Laptop theft', 'ISMS', 'IT', 'open', 3, 2, 2, 2, 2, 2, 1, 'retain', TIMESTAMP '2026-01-06 10:00:00', TIMESTAMP '2026-01-06 10:00:00'),
 ('R-0006', '<b>Unescaped</b> title [link](http://x) $x$', 'ISMS', 'IT', 'closed', 1, 1, 1, 1, 1, 1, 1, NULL, TIMESTAMP '2026-01-06 10:00:00', TIMESTAMP '2026-01-06 10:00:00');
INSERT INTO risk_assets VALUES ('R-0001', 'AS-01'), ('R-0004', 'AS-02'), ('R-0002', 'AS-03');
INSERT INTO risk_ai_systems VALUES ('R-0002', 'AI-01'), ('R-0003', 'AI-02'), ('R-0004', 'AI-02'), ('R-0004', 'AI-03');
INSERT INTO risk_controls (risk_id, framework, ref, status) VALUES
 ('R-0001', 'iso27001-2022', 'A.8.12', 'planned'), ('R-0001', 'iso27001-2022', 'A.5.15', 'existing'),
 ('R-0002', 'iso42001-2023', 'A.6.2.4', 'planned'), ('R-0003', 'iso42001-2023', 'A.5.4', 'planned'),
 ('R-0004', 'iso27001-2022', 'A.5.19', 'planned'), ('R-0004', 'iso42001-2023', 'A.7.5', 'planned');
INSERT INTO actions (id, title, owner, due_date, status, effort, created_at, updated_at) VALUES
 ('A-001', 'Deploy data loss prevention', 'Data office', DATE '2026-03-31', 'in_progress', 20, TIMESTAMP '2026-01-10 09:00:00', TIMESTAMP '2026-01-10 09:00:00'),
 ('A-002', 'Supplier data provenance checks', 'ML platform', DATE '2026-02-28', 'planned', 10, TIMESTAMP '2026-01-10 09:00:00', TIMESTAMP '2026-01-10 09:00:00'),
 ('A-003', 'Fairness testing before release', 'Risk office', DATE '2027-06-30', 'planned', 15, TIMESTAMP '2026-01-10 09:00:00', TIMESTAMP '2026-01-10 09:00:00'),
 ('A-004', 'Chatbot output filtering', 'Customer care', DATE '2026-01-31', 'done', 5, TIMESTAMP '2026-01-10 09:00:00', TIMESTAMP '2026-01-10 09:00:00');
INSERT INTO action_risks VALUES ('A-001', 'R-0001'), ('A-002', 'R-0004'), ('A-003', 'R-0003'), ('A-004', 'R-0002');
INSERT INTO action_controls VALUES ('A-001', 'iso27001-2022', 'A.8.12'), ('A-002', 'iso27001-2022', 'A.5.19'),
 ('A-002', 'iso42001-2023', 'A.7.5'), ('A-003', 'iso42001-2023', 'A.5.4'), ('A-004', 'iso42001-2023', 'A.6.2.4');
INSERT OR REPLACE INTO soa_rows (framework, ref, applicable, reasons, status, justification) VALUES
 ('iso27001-2022', 'A.5.1', true, ['best_practice'], 'implemented', NULL),
 ('iso27001-2022', 'A.5.15', true, ['risk_treatment'], 'implemented', NULL),
 ('iso27001-2022', 'A.8.12', true, ['risk_treatment'], 'partial', NULL),
 ('iso27001-2022', 'A.7.5', false, [], 'not_started', 'No premises of our own'),
 ('iso42001-2023', 'A.5.4', true, ['risk_treatment'], 'planned', NULL);
