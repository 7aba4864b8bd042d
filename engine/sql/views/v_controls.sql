-- v_controls: every clause, Annex A group and Annex A control of every loaded framework.
-- kind is clause | annex_a_group | annex_a_control; grp is the top Annex A group or top clause.
CREATE OR REPLACE VIEW v_controls AS
SELECT framework, ref, title, kind, parent_ref, grp, summary, theme, ordinal
FROM controls
ORDER BY framework, ordinal;
