-- 0003: the consolidated register: assets, AI systems, impact assessments, risks, their links,
-- the risk matrix (versioned criteria), import batches and lineage.

-- Risk criteria (ISO 27001 6.1.2 a, ISO 42001 6.1.2): one row per version; the newest is current.
-- A risk records the version it was scored under; changing the matrix never rescales old scores.
CREATE TABLE risk_matrix_versions (
    version       INTEGER PRIMARY KEY,
    size          INTEGER NOT NULL CHECK (size BETWEEN 3 AND 6),   -- size x size matrix
    likelihood_labels VARCHAR[] NOT NULL,                            -- size labels, low to high
    impact_labels VARCHAR[] NOT NULL,
    level_names   VARCHAR[] NOT NULL,     -- e.g. [Low, Medium, High, Critical]
    level_thresholds INTEGER[] NOT NULL,  -- minimum score (likelihood x impact) of each level
    level_colours VARCHAR[] NOT NULL,
    appetite      INTEGER NOT NULL,       -- highest score accepted without treatment
    created_at    TIMESTAMP NOT NULL,
    created_by    VARCHAR NOT NULL,
    note          VARCHAR
);

CREATE TABLE assets (
    id          VARCHAR PRIMARY KEY,
    name        VARCHAR NOT NULL,
    asset_type  VARCHAR,                  -- information, software, hardware, service, people, site...
    description VARCHAR,
    owner       VARCHAR,
    business_unit VARCHAR,
    classification VARCHAR,
    location    VARCHAR,
    status      VARCHAR NOT NULL DEFAULT 'active',
    version     INTEGER NOT NULL DEFAULT 1
);

-- AI system inventory (ISO 42001 A.4, A.6; 4.1 role of the organisation).
CREATE TABLE ai_systems (
    id              VARCHAR PRIMARY KEY,
    name            VARCHAR NOT NULL,
    purpose         VARCHAR,
    intended_use    VARCHAR,
    lifecycle_stage VARCHAR,              -- inception, design, development, verification, deployment, operation, retired
    role            VARCHAR,              -- developer | provider | user | producer | partner | subject (comma list)
    autonomy        VARCHAR,              -- e.g. decision support, human-in-the-loop, human-on-the-loop, autonomous
    human_oversight VARCHAR,
    data_sources    VARCHAR,
    third_party_components VARCHAR,
    owner           VARCHAR,
    status          VARCHAR NOT NULL DEFAULT 'active',
    version         INTEGER NOT NULL DEFAULT 1
);

-- AI system impact assessments (ISO 42001 6.1.4, 8.4, A.5).
CREATE TABLE impact_assessments (
    id              VARCHAR PRIMARY KEY,
    ai_system_id    VARCHAR NOT NULL,
    title           VARCHAR NOT NULL,
    affected_individuals VARCHAR,
    affected_groups VARCHAR,
    societal_impacts VARCHAR,
    consequences    VARCHAR,
    severity        VARCHAR,              -- low | medium | high | very high
    assessed_on     DATE,
    assessor        VARCHAR,
    next_review_due DATE,
    status          VARCHAR NOT NULL DEFAULT 'current',
    version         INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE risks (
    id              VARCHAR PRIMARY KEY,   -- e.g. R-0001
    title           VARCHAR NOT NULL,
    description     VARCHAR,
    cause           VARCHAR,
    event           VARCHAR,
    consequence     VARCHAR,
    management_system VARCHAR NOT NULL CHECK (management_system IN ('ISMS', 'AIMS', 'both')),
    threat          VARCHAR,
    vulnerability   VARCHAR,
    ai_risk_sources VARCHAR[],             -- ISO 42001 Annex C risk sources
    confidentiality BOOLEAN NOT NULL DEFAULT false,
    integrity       BOOLEAN NOT NULL DEFAULT false,
    availability    BOOLEAN NOT NULL DEFAULT false,
    ai_objectives   VARCHAR[],             -- fairness, transparency, safety, privacy, robustness, ...
    consequence_org VARCHAR,
    consequence_individuals VARCHAR,       -- for individuals, groups or society
    owner           VARCHAR,
    category        VARCHAR,
    business_unit   VARCHAR,
    status          VARCHAR NOT NULL DEFAULT 'open',   -- open | treated | accepted | closed
    inherent_likelihood INTEGER, inherent_impact INTEGER,
    current_likelihood  INTEGER, current_impact  INTEGER,
    residual_likelihood INTEGER, residual_impact INTEGER,
    matrix_version  INTEGER NOT NULL,      -- criteria the scores were given under
    treatment       VARCHAR CHECK (treatment IS NULL OR treatment IN ('modify', 'retain', 'avoid', 'share')),
    treatment_notes VARCHAR,
    acceptance_approver VARCHAR,
    acceptance_date DATE,
    acceptance_expiry DATE,
    acceptance_justification VARCHAR,
    next_review     DATE,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1   -- optimistic concurrency: an edit names the version it saw
);

CREATE TABLE risk_assets (
    risk_id  VARCHAR NOT NULL,
    asset_id VARCHAR NOT NULL,
    PRIMARY KEY (risk_id, asset_id)
);

CREATE TABLE risk_ai_systems (
    risk_id      VARCHAR NOT NULL,
    ai_system_id VARCHAR NOT NULL,
    PRIMARY KEY (risk_id, ai_system_id)
);

-- Controls a risk relies on or plans, in either standard. A legacy 2013 reference is stored as
-- its 2022 successor; translated_from keeps the reference as written and the crosswalk path.
CREATE TABLE risk_controls (
    risk_id     VARCHAR NOT NULL,
    framework   VARCHAR NOT NULL,
    ref         VARCHAR NOT NULL,
    status      VARCHAR NOT NULL DEFAULT 'existing' CHECK (status IN ('existing', 'planned')),
    as_written  VARCHAR,                   -- the reference as the source register wrote it
    translated_from VARCHAR,               -- e.g. iso27001-2013:A.12.4.1 when translated
    PRIMARY KEY (risk_id, framework, ref)
);

-- One row per imported file.
CREATE TABLE import_batches (
    id          VARCHAR PRIMARY KEY,
    kind        VARCHAR NOT NULL,          -- risks | ai_systems | assets
    source      VARCHAR NOT NULL,          -- the register's name given with --source
    file_name   VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL,
    rows        INTEGER NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    imported_by VARCHAR NOT NULL
);

-- Lineage: every source row a risk came from, with the row as it was (JSON) and the scale mapping.
CREATE TABLE risk_sources (
    risk_id     VARCHAR NOT NULL,
    batch_id    VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,
    source_row  INTEGER NOT NULL,          -- row number in the file (header = 1)
    source_key  VARCHAR,                   -- the register's own id for the risk
    raw         JSON NOT NULL,             -- the original cells, values as written
    original_likelihood VARCHAR,
    original_impact VARCHAR,
    scale_note  VARCHAR,                   -- how the original scale was mapped onto the matrix
    PRIMARY KEY (batch_id, source_row)
);

-- Merge decisions: a risk from one register recognised as a risk already in another.
CREATE TABLE risk_merges (
    id          VARCHAR PRIMARY KEY,
    kept_risk_id VARCHAR NOT NULL,
    merged_batch_id VARCHAR NOT NULL,
    merged_source_row INTEGER NOT NULL,
    reason      VARCHAR NOT NULL,          -- e.g. same asset, title similarity 0.93
    similarity  DOUBLE,
    decided_at  TIMESTAMP NOT NULL,
    decided_by  VARCHAR NOT NULL,
    reversed_at TIMESTAMP,
    reversed_by VARCHAR,
    split_risk_id VARCHAR                  -- the risk created when the merge was reversed
);
