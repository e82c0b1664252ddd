-- The program's records: partners, accounts, deal registrations, deals and
-- commission lines. Every row belongs to one tenant.

ALTER TABLE api_keys ADD COLUMN partner_id TEXT;   -- set for role 'partner' only

CREATE TABLE partners (
    tenant          TEXT NOT NULL REFERENCES tenants(slug),
    id              TEXT NOT NULL,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,      -- Referral, Reseller, Implementation, Technology, Strategic
    tier            TEXT NOT NULL,      -- Registered, Silver, Gold, Platinum
    territories     TEXT NOT NULL,      -- JSON list of texts
    certifications  TEXT NOT NULL,      -- JSON list of {name, expires_at}
    manager         TEXT,
    status          TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'terminated')),
    joined_at       INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE accounts (
    tenant      TEXT NOT NULL REFERENCES tenants(slug),
    domain      TEXT NOT NULL,
    name        TEXT NOT NULL,
    industry    TEXT,
    employees   INTEGER,
    country     TEXT,
    region      TEXT,
    PRIMARY KEY (tenant, domain)
);

CREATE TABLE registrations (
    tenant          TEXT NOT NULL REFERENCES tenants(slug),
    id              TEXT NOT NULL,
    partner_id      TEXT NOT NULL,
    account_domain  TEXT NOT NULL,
    amount          INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    expected_close  INTEGER,
    status          TEXT NOT NULL CHECK (status IN ('submitted', 'approved', 'rejected', 'review', 'won', 'lost', 'expired')),
    protected_until INTEGER,
    reason          TEXT NOT NULL,
    decision_id     INTEGER REFERENCES decisions(id),
    plugin_hash     TEXT,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, partner_id) REFERENCES partners(tenant, id)
);

CREATE INDEX registrations_by_account ON registrations (tenant, account_domain, status);
CREATE INDEX registrations_by_partner ON registrations (tenant, partner_id, created_at);

CREATE TABLE deals (
    tenant          TEXT NOT NULL REFERENCES tenants(slug),
    id              TEXT NOT NULL,
    partner_id      TEXT,
    account_domain  TEXT NOT NULL,
    first_year_acv  INTEGER NOT NULL,
    services        INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    source          TEXT NOT NULL CHECK (source IN ('PartnerSourced', 'PartnerInfluenced', 'Direct')),
    stage           TEXT NOT NULL CHECK (stage IN ('open', 'won', 'lost')),
    refunded        INTEGER NOT NULL DEFAULT 0,
    closed_at       INTEGER,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE commission_lines (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant          TEXT NOT NULL REFERENCES tenants(slug),
    deal_id         TEXT NOT NULL,
    partner_id      TEXT NOT NULL,
    kind            TEXT NOT NULL,      -- Fee, Margin, Bonus, Clawback
    amount          INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    rate_bps        INTEGER NOT NULL,
    description     TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'paid', 'held', 'clawed-back')),
    due_at          INTEGER NOT NULL,
    decision_id     INTEGER NOT NULL REFERENCES decisions(id),
    created_at      INTEGER NOT NULL
);

CREATE INDEX commission_lines_by_partner ON commission_lines (tenant, partner_id, due_at);
CREATE INDEX commission_lines_by_deal ON commission_lines (tenant, deal_id, id);
