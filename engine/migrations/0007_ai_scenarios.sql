-- 0007: identifying AI risks (ISO 42001 6.1.2, 8.2, Annex C): the characteristics of each AI system that
-- decide which risk scenarios apply, the scenario library loaded from mappings/scenarios, the decision a
-- person takes on each proposed scenario, and the AI use observed by proxies, CASBs or expense reports.

-- Characteristics (names: engine.register.vocab.AI_CHARACTERISTICS): true, false, or NULL while nobody
-- recorded them. A scenario resting on a characteristic that is not recorded is still proposed.
ALTER TABLE ai_systems ADD COLUMN processes_personal_data BOOLEAN;
ALTER TABLE ai_systems ADD COLUMN processes_sensitive_data BOOLEAN;   -- health, biometric, other special categories
ALTER TABLE ai_systems ADD COLUMN decides_about_people BOOLEAN;
ALTER TABLE ai_systems ADD COLUMN uses_third_party_model BOOLEAN;
ALTER TABLE ai_systems ADD COLUMN trained_in_house BOOLEAN;           -- trained or fine-tuned by the organisation
ALTER TABLE ai_systems ADD COLUMN learns_in_operation BOOLEAN;
ALTER TABLE ai_systems ADD COLUMN generative BOOLEAN;
ALTER TABLE ai_systems ADD COLUMN external_input BOOLEAN;             -- input from outside the organisation
ALTER TABLE ai_systems ADD COLUMN interacts_with_people BOOLEAN;
ALTER TABLE ai_systems ADD COLUMN safety_critical BOOLEAN;
ALTER TABLE ai_systems ADD COLUMN fully_automated BOOLEAN;            -- no person reviews each output
ALTER TABLE ai_systems ADD COLUMN affects_vulnerable_groups BOOLEAN;
-- What observed AI use is matched on: the supplier of the model or service, and the internet domains
-- (host names) the system is reached at.
ALTER TABLE ai_systems ADD COLUMN vendor VARCHAR;
ALTER TABLE ai_systems ADD COLUMN domains VARCHAR[];

-- The scenario library (mappings/scenarios/*.yaml), replaced from the files on every `riskmap init`.
-- Applicability: roles (the system's roles meet them), stages (the system has not yet moved past the last
-- of them), requires (none recorded as false), requires_any (at least one not recorded as false),
-- excludes (none recorded as true). A fact nobody recorded never rules a scenario out.
CREATE TABLE ai_scenarios (
    id               VARCHAR PRIMARY KEY,       -- e.g. SEC-01
    theme            VARCHAR NOT NULL,          -- the library file's theme (security, privacy, ...)
    title            VARCHAR NOT NULL,
    description      VARCHAR NOT NULL,
    cause            VARCHAR NOT NULL,          -- source of risk
    event            VARCHAR NOT NULL,
    consequence_org  VARCHAR NOT NULL,          -- typical consequence for the organisation
    consequence_individuals VARCHAR,            -- for individuals, groups or society (NULL: none typical)
    risk_sources     VARCHAR[] NOT NULL,        -- ISO 42001 Annex C risk sources
    objectives       VARCHAR[] NOT NULL,        -- ISO 42001 Annex C objectives affected
    cia              VARCHAR[] NOT NULL,        -- confidentiality | integrity | availability affected
    management_system VARCHAR NOT NULL CHECK (management_system IN ('ISMS', 'AIMS', 'both')),
    roles            VARCHAR[] NOT NULL,        -- organisation roles it applies to (vocab.AI_ROLES)
    stages           VARCHAR[] NOT NULL,        -- life cycle stages in which the risk is present
    requires         VARCHAR[] NOT NULL,        -- characteristics that must all hold
    requires_any     VARCHAR[] NOT NULL,        -- characteristics of which one must hold (empty: none)
    excludes         VARCHAR[] NOT NULL,        -- characteristics that must not hold
    controls         VARCHAR[] NOT NULL,        -- suggested Annex A controls, framework:ref
    refs             VARCHAR[] NOT NULL,        -- external references, e.g. MITRE ATLAS AML.T0051
    origin_file      VARCHAR NOT NULL,
    library_version  VARCHAR NOT NULL,
    ordinal          INTEGER NOT NULL
);

-- The decision on a proposed scenario for one AI system: identified as a register risk, or not applicable
-- with a reason. No row: the proposal is open. Reopening a decision deletes its row (the history keeps it).
CREATE TABLE ai_scenario_decisions (
    ai_system_id VARCHAR NOT NULL,
    scenario_id  VARCHAR NOT NULL,
    decision     VARCHAR NOT NULL CHECK (decision IN ('identified', 'not_applicable')),
    risk_id      VARCHAR,                       -- the register risk (identified)
    reason       VARCHAR,                       -- why the scenario does not apply (not_applicable)
    decided_by   VARCHAR NOT NULL,
    decided_at   TIMESTAMP NOT NULL,
    channel      VARCHAR NOT NULL,
    PRIMARY KEY (ai_system_id, scenario_id),
    CHECK ((decision = 'identified') = (risk_id IS NOT NULL)),
    CHECK (decision = 'identified' OR trim(coalesce(reason, '')) <> '')
);

-- AI use observed outside the inventory's own records: one row per tool (or domain, or vendor) and department of an
-- export, updated when a later export of the same source names it again. Matching to the inventory is
-- done by the view v_ai_usage, so registering a system (or recording its domain) matches it at once.
CREATE TABLE ai_usage (
    id           VARCHAR PRIMARY KEY,           -- e.g. U-0001
    source       VARCHAR NOT NULL,              -- the export's name (default: the file name)
    tool         VARCHAR,                       -- application or service as the export names it
    domain       VARCHAR,                       -- host name as the export wrote it
    vendor       VARCHAR,
    category     VARCHAR,                       -- the export's category (e.g. Generative AI)
    department   VARCHAR,
    user_count   INTEGER,
    first_seen   DATE,
    last_seen    DATE,
    batch_id     VARCHAR NOT NULL,              -- import batch that first recorded the entry (later ones: history)
    source_row   INTEGER NOT NULL,              -- its row in that file (header = 1)
    dismissed_reason VARCHAR,                   -- why it needs no registration (blocked, not AI...); who and
                                                -- when: its history (v_ai_usage dismissed_by, dismissed_at)
    version      INTEGER NOT NULL DEFAULT 1,
    CHECK (tool IS NOT NULL OR domain IS NOT NULL OR vendor IS NOT NULL)
);
