-- 0002: authored mappings between frameworks, and the derived link table (inverse + inferred).
CREATE TABLE mappings (
    source_framework VARCHAR NOT NULL,
    source_ref       VARCHAR NOT NULL,
    target_framework VARCHAR NOT NULL,
    target_ref       VARCHAR NOT NULL,      -- '' for a no_relationship record
    relationship     VARCHAR NOT NULL CHECK (relationship IN
                        ('equal', 'subset_of', 'superset_of', 'intersects_with', 'no_relationship')),
    strength         INTEGER NOT NULL CHECK (strength BETWEEN 0 AND 10),
    rationale_type   VARCHAR NOT NULL CHECK (rationale_type IN ('syntactic', 'semantic', 'functional')),
    justification    VARCHAR NOT NULL,
    author           VARCHAR NOT NULL,
    authored_on      DATE NOT NULL,
    review_status    VARCHAR NOT NULL,
    origin_file      VARCHAR NOT NULL,
    PRIMARY KEY (source_framework, source_ref, target_framework, target_ref)
);

-- Every link the engine knows: authored, their inverses, and links inferred across frameworks.
-- Rebuilt from `mappings` whenever the mappings or the inference depth change.
CREATE TABLE crosswalk_links (
    source_framework VARCHAR NOT NULL,
    source_ref       VARCHAR NOT NULL,
    target_framework VARCHAR NOT NULL,
    target_ref       VARCHAR,               -- NULL for a no_relationship record
    relationship     VARCHAR NOT NULL,
    strength         INTEGER NOT NULL,
    rationale_type   VARCHAR NOT NULL,
    justification    VARCHAR NOT NULL,
    origin           VARCHAR NOT NULL CHECK (origin IN ('authored', 'inverse', 'inferred')),
    path             VARCHAR NOT NULL,      -- the chain of ids and relationships the link rests on
    depth            INTEGER NOT NULL,      -- number of authored links in the path
    n_paths          INTEGER NOT NULL DEFAULT 1
);
