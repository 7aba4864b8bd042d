-- v_risk_merges: every decision that a register row was a risk already in the register, and
-- whether it was undone (`riskmap merges`, `riskmap merges undo ID`).
--   source, source_row, source_key  the merged row (register name, file row, the register's own id)
--   status  active | reversed; split_risk_id is the risk the row became when reversed
-- Merges into risks of the business units the session may see only (unit_visible).
CREATE OR REPLACE VIEW v_risk_merges AS
SELECT m.id, m.kept_risk_id, r.title AS kept_title, b.source, b.file_name, m.merged_batch_id,
       m.merged_source_row AS source_row, s.source_key, m.reason, m.similarity, m.decided_at, m.decided_by,
       CASE WHEN m.reversed_at IS NULL THEN 'active' ELSE 'reversed' END AS status,
       m.reversed_at, m.reversed_by, m.split_risk_id
FROM risk_merges m
LEFT JOIN risks r ON r.id = m.kept_risk_id
LEFT JOIN import_batches b ON b.id = m.merged_batch_id
LEFT JOIN risk_sources s ON s.batch_id = m.merged_batch_id AND s.source_row = m.merged_source_row
WHERE r.id IS NULL OR unit_visible(r.business_unit);
