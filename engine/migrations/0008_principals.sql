-- 0008: an accountable trail (ISO 27001 7.5.3 and 5.3, ISO 42001 7.5.3 and 5.3). Every change, approval
-- and acceptance names the principal who made it: its stable id (the sign-in e-mail, the operating system
-- account, or the service identity of a scheduled job; kept in the existing actor / *_by columns), its
-- display name, and the channel it came through (app, cli, import, api). Rows written before this
-- migration have no display name; the views show their id in its place.

-- The display name of the principal of each change (history.actor holds its stable id).
ALTER TABLE history ADD COLUMN actor_name VARCHAR;

-- Who recorded a plan approval or a residual acceptance (the signed-in risk owner, or an approver):
-- stable id, display name, channel. approved_by / accepted_by keep the name the approval is given in.
ALTER TABLE plan_approvals ADD COLUMN recorded_by VARCHAR;
ALTER TABLE plan_approvals ADD COLUMN recorded_by_name VARCHAR;
ALTER TABLE plan_approvals ADD COLUMN channel VARCHAR;
ALTER TABLE residual_acceptances ADD COLUMN recorded_by VARCHAR;
ALTER TABLE residual_acceptances ADD COLUMN recorded_by_name VARCHAR;
ALTER TABLE residual_acceptances ADD COLUMN channel VARCHAR;

-- Who froze an approved SoA version (soa_versions.created_by holds the stable id).
ALTER TABLE soa_versions ADD COLUMN created_by_name VARCHAR;
ALTER TABLE soa_versions ADD COLUMN channel VARCHAR;

-- The business units an analyst's read-only login of the PostgreSQL store may read (row level security
-- on the risks and what hangs off them, engine/access/rls.py). A login with no row here reads every unit.
-- Unused by the DuckDB file, whose readers open the file itself.
CREATE TABLE reader_units (
    login         VARCHAR NOT NULL,
    business_unit VARCHAR NOT NULL,
    PRIMARY KEY (login, business_unit)
);
