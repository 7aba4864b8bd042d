-- macros: the domain rules, each defined once, used by every view (engine/sql/views), audit
-- (engine/sql/audits) and engine query (engine/sql/queries). Created by engine/store/schema.py before
-- the views, on every `riskmap init`; they live in the database, so analysts can call them too, for
-- example `SELECT riskmap_today()` or `... WHERE risk_open(status)`.

-- riskmap_today(): the date every dated flag (overdue, expired, current) compares with. It is the
-- session variable riskmap_today when set, else the current date. The engine sets the variable from
-- `riskmap audit --today D` and from the `today=` arguments of its read functions (tests, "as of"
-- checks); an analyst sets it with `SET VARIABLE riskmap_today = DATE '2030-01-31'`.
CREATE OR REPLACE MACRO riskmap_today() AS coalesce(getvariable('riskmap_today')::DATE, current_date);

-- date_passed(d): the date d is before today, so what was due on d is overdue and what ran until d has
-- expired (something due today is not overdue yet); NULL when d is NULL.
CREATE OR REPLACE MACRO date_passed(d) AS d < riskmap_today();

-- acceptance_expires_soon(expiry): a dated acceptance that has not expired yet but will within the next 30
-- days (today up to today + 30 days); NULL when expiry is NULL. What the Overview and the audit
-- acceptance_expiring list for renewal.
CREATE OR REPLACE MACRO acceptance_expires_soon(expiry) AS
    NOT date_passed(expiry) AND expiry <= riskmap_today() + 30;

-- unit_visible(business_unit): a record of that business unit is shown in this session. The session
-- variable riskmap_units lists the units the signed-in principal may see (set by the engine's read
-- functions, engine/access/scope.py); unset (NULL) it shows every unit, which is what an analyst's own
-- session sees. A record without a unit is shown only to those who see every unit.
CREATE OR REPLACE MACRO unit_visible(business_unit) AS
    getvariable('riskmap_units') IS NULL
    OR coalesce(list_contains(getvariable('riskmap_units')::VARCHAR[], business_unit), false);

-- risk_open(status): a risk is open, and counts in the SoA, the plan and the audits, until it is
-- closed; treated and accepted risks are still open.
CREATE OR REPLACE MACRO risk_open(status) AS status <> 'closed';

-- risk_score(current_likelihood, current_impact, inherent_likelihood, inherent_impact): the score a risk
-- stands at: its current likelihood x impact when given, else its inherent one; NULL when unscored.
CREATE OR REPLACE MACRO risk_score(current_likelihood, current_impact, inherent_likelihood, inherent_impact) AS
    coalesce(current_likelihood * current_impact, inherent_likelihood * inherent_impact);

-- plan_score(current_score, target_residual_score, n_done_actions, n_open_actions): the score a risk counts at
-- today, as the treatment plan models the effect of its actions (its target residual score, v_plan_residual):
-- once at least one action treating it is done and none is still open (planned, in progress; cancelled ones do
-- not count) it counts at its target residual score, else (or without one) at its current score (risk_score).
-- Used by v_plan_residual (score_now) and the Overview (engine.plan.picture).
CREATE OR REPLACE MACRO plan_score(current_score, target_residual_score, n_done_actions, n_open_actions) AS
    CASE WHEN coalesce(n_done_actions, 0) > 0 AND coalesce(n_open_actions, 0) = 0
         THEN coalesce(target_residual_score, current_score) ELSE current_score END;

-- level_index(level_thresholds, score): the level a score falls in under a risk matrix version, as a
-- position (1 = lowest): the last level whose minimum score (risk_matrix_versions.level_thresholds) the
-- score reaches; NULL without a score. Always read with the version the risk was scored under.
CREATE OR REPLACE MACRO level_index(level_thresholds, score) AS
    CASE WHEN score IS NOT NULL THEN len(list_filter(level_thresholds, lambda t: t <= score)) END;

-- level_name(level_names, level_thresholds, score): the name of that level (Low, Medium...).
CREATE OR REPLACE MACRO level_name(level_names, level_thresholds, score) AS
    level_names[level_index(level_thresholds, score)];

-- level_colour(level_colours, level_thresholds, score): the colour (hex) of that level.
CREATE OR REPLACE MACRO level_colour(level_colours, level_thresholds, score) AS
    level_colours[level_index(level_thresholds, score)];

-- within_appetite(score, appetite): the score is at most the matrix version's appetite (the highest
-- score accepted without treatment); NULL when unscored. Above appetite is NOT within_appetite(...).
CREATE OR REPLACE MACRO within_appetite(score, appetite) AS score <= appetite;

-- relationship_rank(relationship): how close a NIST IR 8477 relationship is, as evidence that a
-- counterpart covers a control: equal 5, subset_of 4, superset_of 3, intersects_with 2, else 1
-- (no_relationship). The same ranks as engine.crosswalk.RANK.
CREATE OR REPLACE MACRO relationship_rank(relationship) AS
    CASE relationship WHEN 'equal' THEN 5 WHEN 'subset_of' THEN 4 WHEN 'superset_of' THEN 3
                      WHEN 'intersects_with' THEN 2 ELSE 1 END;

-- rank_relationship(rank): the relationship of a rank, the inverse of relationship_rank (a NULL rank,
-- no link at all, is no_relationship).
CREATE OR REPLACE MACRO rank_relationship(rank) AS
    CASE rank WHEN 5 THEN 'equal' WHEN 4 THEN 'subset_of' WHEN 3 THEN 'superset_of'
              WHEN 2 THEN 'intersects_with' ELSE 'no_relationship' END;

-- rank_coverage(rank): how far a control is covered given the best relationship_rank of its links to
-- counterparts: 'full' when a counterpart equals or contains it (equal, subset_of), 'partial' when one
-- only overlaps it (superset_of, intersects_with), else 'none'.
CREATE OR REPLACE MACRO rank_coverage(rank) AS
    CASE WHEN rank >= 4 THEN 'full' WHEN rank >= 2 THEN 'partial' ELSE 'none' END;

-- contains_target(relationship): a link's source control equals or contains its target (equal,
-- superset_of), so implementing the source implements the target too.
CREATE OR REPLACE MACRO contains_target(relationship) AS relationship IN ('equal', 'superset_of');

-- inverse_relationship(relationship): the relationship of target to source given that of source to target:
-- subset_of and superset_of swap, the others read the same both ways (engine.crosswalk.inverse).
CREATE OR REPLACE MACRO inverse_relationship(relationship) AS
    CASE relationship WHEN 'subset_of' THEN 'superset_of' WHEN 'superset_of' THEN 'subset_of'
                      ELSE relationship END;

-- mapping_pair(source_framework, source_ref, target_framework, target_ref): the pair of controls a mapping
-- record decides, the same whichever way round it is stored ('a|b', a sorting first); a record naming no
-- target control (target_ref '') decides its source against the whole target framework ('a|framework:').
-- One record is in force per pair (engine/sql/queries/mappings_in_force.sql).
CREATE OR REPLACE MACRO mapping_pair(source_framework, source_ref, target_framework, target_ref) AS
    CASE WHEN target_ref = '' THEN source_framework || ':' || source_ref || '|' || target_framework || ':'
         WHEN source_framework || ':' || source_ref < target_framework || ':' || target_ref
         THEN source_framework || ':' || source_ref || '|' || target_framework || ':' || target_ref
         ELSE target_framework || ':' || target_ref || '|' || source_framework || ':' || source_ref END;

-- coverage_share(coverage, max_strength): how much of a control's work its counterparts do, from 0 to 1,
-- for the strength-weighted coverage estimate: 1 when fully covered (a counterpart equals or contains it),
-- the strength of its strongest link divided by 10 when partly covered (strength rates how much of the
-- concept is shared), 0 when not covered. The estimate for a set of controls is the mean of their shares.
CREATE OR REPLACE MACRO coverage_share(coverage, max_strength) AS
    CASE coverage WHEN 'full' THEN 1.0 WHEN 'partial' THEN coalesce(max_strength, 0) / 10.0 ELSE 0.0 END;

-- assessment_live(status): an AI system impact assessment is live, and counts for the SoA and the
-- audits, unless it is superseded or withdrawn (drafts and assessments without a status count).
CREATE OR REPLACE MACRO assessment_live(status) AS coalesce(status, '') NOT IN ('superseded', 'withdrawn');

-- action_open(status): a treatment plan action is open (work still to do) while planned or in progress.
CREATE OR REPLACE MACRO action_open(status) AS status IN ('planned', 'in_progress');

-- action_in_plan(status): an action is part of the treatment plan unless it is cancelled (done
-- actions still count: their work is what the plan rests on).
CREATE OR REPLACE MACRO action_in_plan(status) AS status <> 'cancelled';

-- soa_not_excluded(applicable): an SoA row is in scope unless it is marked not applicable (an undecided
-- row, applicable NULL, is not excluded).
CREATE OR REPLACE MACRO soa_not_excluded(applicable) AS coalesce(applicable, true);

-- soa_implemented(status, applicable): the SoA says the control is implemented: its status is
-- implemented and the row is not excluded (an excluded control is never implemented).
CREATE OR REPLACE MACRO soa_implemented(status, applicable) AS
    status = 'implemented' AND soa_not_excluded(applicable);

-- ai_host(text): a URL or host name as the lower-case host name observed AI use and the inventory's
-- domains are matched on: no scheme, path, port, leading www. or *.; NULL when nothing is left. Used by
-- v_ai_usage and by the importer of observed AI use, so both read a domain the same way.
CREATE OR REPLACE MACRO ai_host(text) AS
    nullif(rtrim(regexp_replace(regexp_replace(regexp_replace(lower(trim(coalesce(text, ''))),
        '^[a-z][a-z0-9+.-]*://', ''), '[/?#:@].*$', ''), '^(\*\.|www\.)+', ''), '.'), '');

-- ai_name_words(text): the distinctive words of a tool, system or vendor name, lower case, without
-- words every name shares (ai, app, inc, ltd, the...): a tool matches a system when the words of one
-- are all among the words of the other.
CREATE OR REPLACE MACRO ai_name_words(text) AS
    list_filter(string_split(regexp_replace(lower(coalesce(text, '')), '[^a-z0-9]+', ' ', 'g'), ' '),
                lambda w: length(w) >= 2 AND NOT list_contains(
                    ['ai', 'app', 'apps', 'the', 'inc', 'ltd', 'llc', 'limited', 'plc', 'gmbh', 'corp',
                     'corporation', 'co', 'com', 'io', 'net', 'org', 'for', 'and', 'of', 'by'], w));

-- assessment_current(status, next_review_due): an AI system impact assessment is current: its status is
-- current and its review is not overdue (date_passed). Stricter than assessment_live: what an AI risk
-- scenario affecting people needs (audit ai_scenario_without_impact_assessment).
CREATE OR REPLACE MACRO assessment_current(status, next_review_due) AS
    status = 'current' AND NOT coalesce(date_passed(next_review_due), false);
