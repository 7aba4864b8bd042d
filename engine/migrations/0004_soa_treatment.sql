-- 0004: the Statement of Applicability (ISO 27001 6.1.3 d, ISO 42001 6.1.3 f) with its approved
-- snapshots, and the risk treatment plan (ISO 27001 6.1.3 e-f, ISO 42001 6.1.3 g): actions, the
-- risks they treat, the controls they implement, risk owners' approvals and residual acceptances.

-- One decision per Annex A control of 27001:2022 and 42001:2023, and per control an organisation adds
-- (a custom framework). Rows are seeded from the catalog (engine.soa.ensure_rows); the SoA view is
-- driven by the catalog, so a control without a row here shows as undecided.
CREATE TABLE soa_rows (
    framework        VARCHAR NOT NULL,
    ref              VARCHAR NOT NULL,
    applicable       BOOLEAN,              -- NULL while undecided
    reasons          VARCHAR[] NOT NULL DEFAULT [],  -- inclusion reason codes, see engine.soa.REASONS
    exclusion_reason VARCHAR,              -- code, see engine.soa.EXCLUSION_REASONS
    justification    VARCHAR,              -- required when not applicable (refused otherwise)
    status           VARCHAR NOT NULL DEFAULT 'not_started'
                     CHECK (status IN ('not_started', 'planned', 'partial', 'implemented')),
    implementation_notes VARCHAR,          -- how the control is implemented, in the owner's words
    owner            VARCHAR,
    evidence         VARCHAR[] NOT NULL DEFAULT [],  -- references to evidence (document ids, links)
    last_verified    DATE,
    updated_at       TIMESTAMP,
    updated_by       VARCHAR,
    version          INTEGER NOT NULL DEFAULT 1,     -- optimistic concurrency: an edit names the version it saw
    PRIMARY KEY (framework, ref)
);

-- AI systems named in scope of a 42001 row (in addition to those of the risks citing the control).
CREATE TABLE soa_row_ai_systems (
    framework    VARCHAR NOT NULL,
    ref          VARCHAR NOT NULL,
    ai_system_id VARCHAR NOT NULL,
    PRIMARY KEY (framework, ref, ai_system_id)
);

-- The manager's answer to a proposal. A rejection holds while the proposal rests on the same basis;
-- when the basis changes (another risk cites the control, a counterpart changes) it is proposed again.
CREATE SEQUENCE soa_proposal_decisions_id_seq;
CREATE TABLE soa_proposal_decisions (
    id            BIGINT PRIMARY KEY DEFAULT nextval('soa_proposal_decisions_id_seq'),
    framework     VARCHAR NOT NULL,
    ref           VARCHAR NOT NULL,
    kind          VARCHAR NOT NULL,        -- risk_treatment | counterpart_status
    basis         VARCHAR NOT NULL,        -- what the proposal rested on, as shown to the manager
    decision      VARCHAR NOT NULL CHECK (decision IN ('accepted', 'rejected')),
    justification VARCHAR,
    decided_by    VARCHAR NOT NULL,
    decided_at    TIMESTAMP NOT NULL
);

-- Approved, frozen versions of the SoA. Numbered from 1; never changed once written.
CREATE TABLE soa_versions (
    version     INTEGER PRIMARY KEY,
    approved_by VARCHAR NOT NULL,
    approved_at TIMESTAMP NOT NULL,
    created_by  VARCHAR NOT NULL,
    note        VARCHAR,
    n_rows      INTEGER NOT NULL,
    n_applicable INTEGER NOT NULL
);

-- The rows of each approved version, as v_soa showed them at approval.
CREATE TABLE soa_version_rows (
    version          INTEGER NOT NULL,
    framework        VARCHAR NOT NULL,
    ref              VARCHAR NOT NULL,
    title            VARCHAR NOT NULL,
    applicable       BOOLEAN,
    reasons          VARCHAR[],
    risk_ids         VARCHAR[],
    exclusion_reason VARCHAR,
    justification    VARCHAR,
    status           VARCHAR,
    implementing_actions VARCHAR[],
    implementation_notes VARCHAR,
    owner            VARCHAR,
    evidence         VARCHAR[],
    last_verified    DATE,
    counterparts     VARCHAR[],
    ai_systems       VARCHAR[],
    impact_assessments VARCHAR[],
    row_version      INTEGER,
    ordinal          INTEGER,
    PRIMARY KEY (version, framework, ref)
);

-- Treatment plan actions. One action may treat several risks and implement controls of both standards.
CREATE TABLE actions (
    id          VARCHAR PRIMARY KEY,       -- e.g. A-001
    title       VARCHAR NOT NULL,
    description VARCHAR,
    owner       VARCHAR,
    due_date    DATE,
    status      VARCHAR NOT NULL DEFAULT 'planned'
                CHECK (status IN ('planned', 'in_progress', 'done', 'cancelled')),
    effort      DOUBLE CHECK (effort IS NULL OR effort > 0),   -- person-days
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE action_risks (
    action_id VARCHAR NOT NULL,
    risk_id   VARCHAR NOT NULL,
    PRIMARY KEY (action_id, risk_id)
);

CREATE TABLE action_controls (
    action_id VARCHAR NOT NULL,
    framework VARCHAR NOT NULL,
    ref       VARCHAR NOT NULL,
    PRIMARY KEY (action_id, framework, ref)
);

-- Risk owners' approval of the treatment plan for their risks (ISO 27001 6.1.3 f, ISO 42001 6.1.3 g).
CREATE SEQUENCE plan_approvals_id_seq;
CREATE TABLE plan_approvals (
    id          BIGINT PRIMARY KEY DEFAULT nextval('plan_approvals_id_seq'),
    risk_id     VARCHAR NOT NULL,
    approved_by VARCHAR NOT NULL,
    approved_at TIMESTAMP NOT NULL,
    expires_on  DATE,
    action_ids  VARCHAR[] NOT NULL,        -- the actions of the plan for this risk when approved
    note        VARCHAR
);

-- Every acceptance of a residual risk, in order. The current acceptance is also on the risk
-- (risks.acceptance_*); this log keeps the earlier ones.
CREATE SEQUENCE residual_acceptances_id_seq;
CREATE TABLE residual_acceptances (
    id            BIGINT PRIMARY KEY DEFAULT nextval('residual_acceptances_id_seq'),
    risk_id       VARCHAR NOT NULL,
    accepted_by   VARCHAR NOT NULL,
    accepted_at   TIMESTAMP NOT NULL,
    expires_on    DATE NOT NULL,
    residual_score INTEGER,                -- the residual score accepted
    justification VARCHAR NOT NULL
);
