-- 0001: frameworks and their controls (clauses, Annex A groups and controls), plus settings.
CREATE TABLE frameworks (
    framework       VARCHAR PRIMARY KEY,   -- e.g. iso27001-2022
    name            VARCHAR NOT NULL,
    edition         VARCHAR NOT NULL,
    title           VARCHAR,
    source          VARCHAR,
    copyright       VARCHAR,
    catalog_version VARCHAR NOT NULL,
    custom          BOOLEAN NOT NULL DEFAULT false  -- true for an organisation's own control set
);

CREATE TABLE controls (
    framework  VARCHAR NOT NULL,
    ref        VARCHAR NOT NULL,           -- clause number or Annex A id, never stored without framework
    title      VARCHAR NOT NULL,           -- official short title
    kind       VARCHAR NOT NULL CHECK (kind IN ('clause', 'annex_a_group', 'annex_a_control')),
    parent_ref VARCHAR,
    grp        VARCHAR,                    -- top Annex A group (A.5..A.8, A.2..A.10) or top clause
    theme      VARCHAR,                    -- 27001:2022 Annex A theme
    summary    VARCHAR,                    -- our own words, never ISO text
    full_text  VARCHAR,                    -- optional licensed text a user loads themselves
    ordinal    INTEGER NOT NULL,           -- order of the catalog
    PRIMARY KEY (framework, ref)
);

CREATE TABLE settings (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
INSERT INTO settings VALUES ('crosswalk_depth', '3');

-- Change history of every record a user can change (risks, AI systems, assessments, links, SoA,
-- actions, mappings): who, when, through which channel, which field, old and new value.
-- Append-only: the engine never updates or deletes a row of it.
CREATE SEQUENCE history_id_seq;
CREATE TABLE history (
    id        BIGINT PRIMARY KEY DEFAULT nextval('history_id_seq'),
    changed_at TIMESTAMP NOT NULL,
    actor     VARCHAR NOT NULL,
    channel   VARCHAR NOT NULL,          -- cli | app | import | api | demo
    entity    VARCHAR NOT NULL,          -- risk | ai_system | impact_assessment | risk_control | soa | ...
    entity_id VARCHAR NOT NULL,
    action    VARCHAR NOT NULL,          -- create | update | delete | link | unlink | merge | unmerge | rescore
    field     VARCHAR,
    old_value VARCHAR,
    new_value VARCHAR,
    batch_id  VARCHAR                    -- the import batch or operation the change belongs to
);
