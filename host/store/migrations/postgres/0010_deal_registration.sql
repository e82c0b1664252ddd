-- A deal opened from an approved registration keeps the link (issue 16:
-- partner and account carried over; winning or losing it closes the
-- registration).
ALTER TABLE deals ADD COLUMN registration_id TEXT;
