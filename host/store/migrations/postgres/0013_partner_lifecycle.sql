-- Partner lifecycle (issue 16): a partner's contact, and a version that
-- every change bumps, so a change computed on a partner as read is written
-- only if no other change came first (updates, certifications, tier
-- overrides, scorecards).
ALTER TABLE partners ADD COLUMN contact_email TEXT;
ALTER TABLE partners ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

-- Notices the scheduler sends once each: a certification about to expire,
-- a registration whose review is overdue. The key is what the notice is
-- about (with the date it is about, so a renewal is noticed again).
CREATE TABLE notices (
    tenant          TEXT NOT NULL REFERENCES tenants(slug),
    kind            TEXT NOT NULL,
    subject         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant, kind, subject)
);
