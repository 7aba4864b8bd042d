-- 0005: additions to the register schema of 0003.

-- The normalised values of a source row as last imported (JSON object: field -> value, with the
-- resolved controls, assets and AI systems). A re-import compares against it, so only what changed
-- in the source register is applied (an edit made in the app is not overwritten by re-importing an
-- unchanged file), and undoing a merge can rebuild the split risk from its own row.
ALTER TABLE risk_sources ADD COLUMN normalised JSON;

-- Risk criteria version 1 (ISO 27001 6.1.2 a, ISO 42001 6.1.2): the default 5x5 matrix.
-- Seeded here so every database has criteria before the first risk is scored; must match
-- engine.register.scoring.DEFAULT_MATRIX (a test checks that they agree).
INSERT INTO risk_matrix_versions
    (version, size, likelihood_labels, impact_labels, level_names, level_thresholds, level_colours,
     appetite, created_at, created_by, note)
VALUES (
    1, 5,
    ['Rare', 'Unlikely', 'Possible', 'Likely', 'Almost certain'],
    ['Negligible', 'Minor', 'Moderate', 'Major', 'Severe'],
    ['Low', 'Medium', 'High', 'Critical'],
    [1, 4, 8, 15],
    ['#2e7d32', '#f9a825', '#ef6c00', '#c62828'],
    6,
    date_trunc('second', timezone('UTC', now())),
    'riskmap',
    'default 5x5 matrix'
);
