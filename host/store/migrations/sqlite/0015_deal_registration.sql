-- A deal opened from an approved registration keeps the link (issue 16:
-- partner and account carried over; winning or losing it closes the
-- registration). A registration opens one deal: concurrent requests to
-- open a second one are refused by the index, not by a read before.
ALTER TABLE deals ADD COLUMN registration_id TEXT;
CREATE UNIQUE INDEX deals_by_registration ON deals (tenant, registration_id) WHERE registration_id IS NOT NULL;
