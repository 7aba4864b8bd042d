-- v_control_suggestions: Annex A controls proposed for the free-text control phrases of imported
-- registers ("MFA", "email filtering"), one row per (risk, phrase, control); a person accepts or
-- rejects each (`riskmap suggestions accept|reject`, the Import page), nothing is linked silently.
--   score     0-1: how closely the phrase names the control (vocabulary wordings score highest)
--   method    vocabulary (the shipped list of common control wordings) or title (the official title)
--   status    proposed | accepted (the control is linked to the risk) | rejected
--   link_status  existing or planned: how the control is linked when accepted (the phrase's column)
--   linked    the control is linked to the risk now, whatever the suggestion's status
CREATE OR REPLACE VIEW v_control_suggestions AS
SELECT s.id, s.risk_id, r.title AS risk_title, r.management_system, s.phrase, s.framework, s.ref,
       c.title AS control_title, s.score, s.method, s.reason, s.status, s.link_status,
       EXISTS (SELECT 1 FROM risk_controls rc
               WHERE rc.risk_id = s.risk_id AND rc.framework = s.framework AND rc.ref = s.ref) AS linked,
       s.batch_id, s.created_at, s.decided_at, s.decided_by, s.note, s.version
FROM control_suggestions s
JOIN risks r ON r.id = s.risk_id
LEFT JOIN controls c ON c.framework = s.framework AND c.ref = s.ref;
