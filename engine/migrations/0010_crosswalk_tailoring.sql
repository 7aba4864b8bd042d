-- 0010: the organisation's own view of the crosswalk, and crosswalks imported from other tools, each kept
-- apart from the shipped records in `mappings` (which `riskmap init` reloads from the files), so both
-- survive `init` and upgrades of the shipped files. Which record is in force for a pair is decided by
-- engine/sql/queries/mappings_in_force.sql: a tailored record, else the shipped one, else an imported one.

-- crosswalk_tailoring: one record per control pair the organisation decided (engine.crosswalk.tailoring):
-- it accepts, disputes, strengthens or weakens the record beneath (shipped or imported), or adds a link.
-- Written through the record write path (version, history); withdrawn records stay, marked withdrawn.
CREATE TABLE crosswalk_tailoring (
    id                VARCHAR PRIMARY KEY,      -- T-0001
    source_framework  VARCHAR NOT NULL,
    source_ref        VARCHAR NOT NULL,
    target_framework  VARCHAR NOT NULL,
    target_ref        VARCHAR NOT NULL,
    decision          VARCHAR NOT NULL CHECK (decision IN ('accept', 'dispute', 'strengthen', 'weaken', 'add')),
    relationship      VARCHAR NOT NULL CHECK (relationship IN
                         ('equal', 'subset_of', 'superset_of', 'intersects_with', 'no_relationship')),
    strength          INTEGER NOT NULL CHECK (strength BETWEEN 0 AND 10),
    rationale_type    VARCHAR NOT NULL CHECK (rationale_type IN ('syntactic', 'semantic', 'functional')),
    justification     VARCHAR NOT NULL,         -- of the link as the organisation holds it
    reason            VARCHAR,                  -- why the organisation decided so (optional for accept)
    author            VARCHAR NOT NULL,         -- provenance in force: the record's author ...
    authored_on       DATE NOT NULL,
    review_status     VARCHAR NOT NULL,         -- ... 'reviewed' for an accepted record, else 'authored'
    reviewer          VARCHAR,                  -- who accepted it (accept only)
    reviewed_on       DATE,
    tailored_by       VARCHAR NOT NULL,         -- who decided, and when
    tailored_on       DATE NOT NULL,
    base_provenance   VARCHAR,                  -- the record beneath when decided: 'shipped', 'imported' or NULL
    base_relationship VARCHAR,                  -- ... as it was then, in this record's direction
    base_strength     INTEGER,
    base_justification VARCHAR,
    status            VARCHAR NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'withdrawn')),
    version           INTEGER NOT NULL DEFAULT 1,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    updated_by        VARCHAR,
    UNIQUE (source_framework, source_ref, target_framework, target_ref)
);

-- crosswalk_imports: each imported crosswalk source: a CISO Assistant library (its header kept, copyright
-- included) or an OSCAL mapping-collection file, with who imported it and when.
CREATE TABLE crosswalk_imports (
    import_source    VARCHAR PRIMARY KEY,       -- the library urn, or 'oscal:<file name>'
    kind             VARCHAR NOT NULL CHECK (kind IN ('library', 'oscal')),
    file_name        VARCHAR NOT NULL,
    ref_id           VARCHAR,
    name             VARCHAR NOT NULL,
    description      VARCHAR,
    locale           VARCHAR,
    copyright        VARCHAR,
    version          VARCHAR,
    provider         VARCHAR,
    packager         VARCHAR,
    publication_date DATE,
    dependencies     VARCHAR,                   -- urns of the libraries it depends on, comma separated
    imported_at      TIMESTAMP NOT NULL,
    imported_by      VARCHAR NOT NULL
);

-- imported_frameworks: the frameworks an import brought (rows of `frameworks` and `controls`).
CREATE TABLE imported_frameworks (
    framework     VARCHAR PRIMARY KEY,
    import_source VARCHAR NOT NULL
);

-- imported_mappings: the mapping records of each import, the columns of `mappings` plus their source.
CREATE TABLE imported_mappings (
    import_source    VARCHAR NOT NULL,
    source_framework VARCHAR NOT NULL,
    source_ref       VARCHAR NOT NULL,
    target_framework VARCHAR NOT NULL,
    target_ref       VARCHAR NOT NULL,          -- '' for a no_relationship record naming no control
    relationship     VARCHAR NOT NULL CHECK (relationship IN
                        ('equal', 'subset_of', 'superset_of', 'intersects_with', 'no_relationship')),
    strength         INTEGER NOT NULL CHECK (strength BETWEEN 0 AND 10),
    rationale_type   VARCHAR NOT NULL CHECK (rationale_type IN ('syntactic', 'semantic', 'functional')),
    justification    VARCHAR NOT NULL,
    author           VARCHAR NOT NULL,
    authored_on      DATE NOT NULL,
    review_status    VARCHAR NOT NULL,
    origin_file      VARCHAR NOT NULL,
    reviewer         VARCHAR,
    reviewed_on      DATE,
    imported_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (import_source, source_framework, source_ref, target_framework, target_ref)
);

-- The links say which record each rests on: provenance 'shipped', 'tailored' or 'imported' (inferred
-- links: those of their hops, e.g. 'imported+shipped'), and that record's review status and reviewer.
ALTER TABLE crosswalk_links ADD COLUMN provenance VARCHAR;
ALTER TABLE crosswalk_links ADD COLUMN review_status VARCHAR;
ALTER TABLE crosswalk_links ADD COLUMN reviewer VARCHAR;
