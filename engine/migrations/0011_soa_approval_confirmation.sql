-- 0011: an SoA version approved while rows were still undecided or error-level audit findings were open
-- records what the approver confirmed (ISO 27001 6.1.3 d, ISO 42001 6.1.3): how many rows were undecided,
-- how many error findings were open, and the approver's stated reason for approving anyway. All three
-- stay NULL / 0 for a version approved with every row decided and no error finding.
ALTER TABLE soa_versions ADD COLUMN n_undecided INTEGER;
ALTER TABLE soa_versions ADD COLUMN n_error_findings INTEGER;
ALTER TABLE soa_versions ADD COLUMN confirmation VARCHAR;
