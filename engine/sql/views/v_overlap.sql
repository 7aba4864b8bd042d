-- v_overlap: the overlap of ISO 27001:2022 Annex A themes (rows) and ISO 42001:2023 Annex A groups
-- (columns): how many direct (authored or inverse) links join them and their mean strength. Links only:
-- no_relationship records (pairs considered and rejected) are left out.
CREATE OR REPLACE VIEW v_overlap AS
SELECT c27.theme AS theme_27001, c42.grp AS group_42001, g.title AS group_title,
       count(*) AS n_links, round(avg(l.strength), 2) AS mean_strength,
       count(*) FILTER (WHERE l.relationship IN ('equal', 'subset_of', 'superset_of')) AS n_strong
FROM crosswalk_links l
JOIN controls c42 ON c42.framework = l.source_framework AND c42.ref = l.source_ref
JOIN controls c27 ON c27.framework = l.target_framework AND c27.ref = l.target_ref
LEFT JOIN controls g ON g.framework = c42.framework AND g.ref = c42.grp
WHERE l.source_framework = 'iso42001-2023' AND l.target_framework = 'iso27001-2022'
  AND l.origin IN ('authored', 'inverse') AND l.relationship <> 'no_relationship'
  AND c42.kind = 'annex_a_control' AND c27.kind = 'annex_a_control'
GROUP BY ALL;
