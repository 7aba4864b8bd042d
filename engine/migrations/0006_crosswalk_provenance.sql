-- 0006: honest provenance of authored mappings. review_status gains 'authored' (written, not
-- independently reviewed); a 'reviewed' or 'approved' record names the person who reviewed it and when.
-- Both columns are NULL for records nobody reviewed.
ALTER TABLE mappings ADD COLUMN reviewer VARCHAR;
ALTER TABLE mappings ADD COLUMN reviewed_on DATE;
