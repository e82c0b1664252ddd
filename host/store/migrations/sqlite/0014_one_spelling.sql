-- no-transaction
-- One spelling per case, the same as the API's and the WIT's (kebab case):
-- deal sources were stored as Rust names (PartnerSourced), partner kinds,
-- tiers, line kinds and tier changes capitalized (Referral, Gold, Fee,
-- Promote), and an offboarded partner as 'terminated'.
--
-- SQLite cannot change a CHECK constraint in place: `deals` and `partners`
-- are rebuilt (https://www.sqlite.org/lang_altertable.html, "otheralter"),
-- with foreign keys off for the copy (registrations refer to partners),
-- which a transaction cannot switch, hence `no-transaction` above and the
-- explicit BEGIN/COMMIT. Every statement maps old values only, so a rerun
-- (a crash after COMMIT, before sqlx records the migration) changes
-- nothing more.
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE deals_0014 (
    tenant          TEXT NOT NULL REFERENCES tenants(slug),
    id              TEXT NOT NULL,
    partner_id      TEXT,
    account_domain  TEXT NOT NULL,
    first_year_acv  INTEGER NOT NULL,
    services        INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    source          TEXT NOT NULL CHECK (source IN ('partner-sourced', 'partner-influenced', 'direct')),
    stage           TEXT NOT NULL CHECK (stage IN ('open', 'won', 'lost')),
    refunded        INTEGER NOT NULL DEFAULT 0,
    closed_at       INTEGER,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
);
INSERT INTO deals_0014
SELECT tenant, id, partner_id, account_domain, first_year_acv, services, currency,
       CASE source WHEN 'PartnerSourced' THEN 'partner-sourced'
                   WHEN 'PartnerInfluenced' THEN 'partner-influenced'
                   WHEN 'Direct' THEN 'direct'
                   ELSE source END,
       stage, refunded, closed_at, created_at
FROM deals;
DROP TABLE deals;
ALTER TABLE deals_0014 RENAME TO deals;
CREATE INDEX deals_by_partner_close ON deals (tenant, partner_id, stage, closed_at);
CREATE INDEX deals_by_close ON deals (tenant, closed_at, partner_id, stage, first_year_acv);

CREATE TABLE partners_0014 (
    tenant          TEXT NOT NULL REFERENCES tenants(slug),
    id              TEXT NOT NULL,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,      -- referral, reseller, implementation, technology, strategic
    tier            TEXT NOT NULL,      -- registered, silver, gold, platinum
    territories     TEXT NOT NULL,      -- JSON list of texts
    certifications  TEXT NOT NULL,      -- JSON list of {name, expires_at}
    manager         TEXT,
    status          TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'offboarded')),
    joined_at       INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
);
INSERT INTO partners_0014
SELECT tenant, id, name, lower(kind), lower(tier), territories, certifications, manager,
       CASE status WHEN 'terminated' THEN 'offboarded' ELSE status END, joined_at
FROM partners;
DROP TABLE partners;
ALTER TABLE partners_0014 RENAME TO partners;

UPDATE commission_lines SET kind = lower(kind) WHERE kind <> lower(kind);
UPDATE scorecards SET tier_before = lower(tier_before), tier_after = lower(tier_after), change = lower(change)
WHERE change <> lower(change) OR tier_after <> lower(tier_after) OR tier_before <> lower(tier_before);

COMMIT;
PRAGMA foreign_keys = ON;
