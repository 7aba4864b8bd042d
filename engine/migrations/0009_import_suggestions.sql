-- 0009: what imports keep of registers, SoAs and action plans as teams write them.

-- The control cells of a risk as its register wrote them, when they describe controls in words
-- ("MFA, email filtering, awareness training") rather than only by Annex A reference, so nothing a
-- register said about its controls is lost. NULL when every item of the cells was a reference.
ALTER TABLE risks ADD COLUMN controls_text VARCHAR;

-- Annex A controls proposed for the phrases of a risk's control cells, by the shipped vocabulary of
-- control wordings (mappings/control-phrases.yaml) or by the official titles. A proposal is only a
-- proposal: a person accepts it (the control is then linked to the risk, with history) or rejects it.
CREATE TABLE control_suggestions (
    id          VARCHAR PRIMARY KEY,          -- S-0001
    risk_id     VARCHAR NOT NULL,
    phrase      VARCHAR NOT NULL,             -- the phrase as the register wrote it
    framework   VARCHAR NOT NULL,             -- iso27001-2022 | iso42001-2023
    ref         VARCHAR NOT NULL,
    score       DOUBLE NOT NULL,              -- 0-1, how closely the phrase names the control
    method      VARCHAR NOT NULL CHECK (method IN ('vocabulary', 'title')),
    reason      VARCHAR,                      -- why the control fits the phrase, in one line
    link_status VARCHAR NOT NULL DEFAULT 'existing' CHECK (link_status IN ('existing', 'planned')),
                                              -- how it is linked when accepted: the phrase's column said
    status      VARCHAR NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'accepted', 'rejected')),
    batch_id    VARCHAR,                      -- the import batch that proposed it
    created_at  TIMESTAMP NOT NULL,
    decided_at  TIMESTAMP,
    decided_by  VARCHAR,
    note        VARCHAR,                      -- the person's note on the decision
    version     INTEGER NOT NULL DEFAULT 1,
    UNIQUE (risk_id, phrase, framework, ref)
);
