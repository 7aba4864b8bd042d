-- v_risk_controls: one row per control a risk relies on (existing) or plans, in either standard,
-- with the control's title; legacy 27001:2013 references appear as their 2022 successors.
--   as_written       the reference as the source register wrote it
--   translated_from  e.g. iso27001-2013:A.12.4.1 when translated through the crosswalk
-- Risks of the business units the session may see only (unit_visible).
CREATE OR REPLACE VIEW v_risk_controls AS
SELECT rc.risk_id, r.title AS risk_title, r.management_system, rc.framework, rc.ref, c.title AS control_title,
       rc.status, rc.as_written, rc.translated_from
FROM risk_controls rc
JOIN risks r ON r.id = rc.risk_id AND unit_visible(r.business_unit)
LEFT JOIN controls c ON c.framework = rc.framework AND c.ref = rc.ref;
