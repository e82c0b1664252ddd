-- Routed leads and monthly partner scorecards; deals can be lost.

CREATE TABLE leads (
    tenant          TEXT NOT NULL REFERENCES tenants(slug),
    id              TEXT NOT NULL,
    account_domain  TEXT NOT NULL,
    contact_email   TEXT,
    source          TEXT NOT NULL,
    destination     TEXT NOT NULL CHECK (destination IN ('partner', 'direct')),
    partner_id      TEXT,
    reason          TEXT NOT NULL,
    attribution     TEXT NOT NULL,
    decision_id     INTEGER NOT NULL REFERENCES decisions(id),
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE INDEX leads_by_partner ON leads (tenant, partner_id, created_at);

CREATE TABLE scorecards (
    tenant              TEXT NOT NULL REFERENCES tenants(slug),
    partner_id          TEXT NOT NULL,
    period              TEXT NOT NULL,      -- YYYY-MM
    registered_deals    INTEGER NOT NULL,
    won_deals           INTEGER NOT NULL,
    lost_deals          INTEGER NOT NULL,
    won_revenue         INTEGER NOT NULL,
    win_rate_bps        INTEGER NOT NULL,
    average_deal_size   INTEGER NOT NULL,
    trailing_revenue    INTEGER NOT NULL,
    currency            TEXT NOT NULL,
    tier_before         TEXT NOT NULL,
    tier_after          TEXT NOT NULL,
    change              TEXT NOT NULL,      -- Keep, Promote, Demote
    escalate            INTEGER NOT NULL,
    reason              TEXT NOT NULL,
    decision_id         INTEGER NOT NULL REFERENCES decisions(id),
    created_at          INTEGER NOT NULL,
    PRIMARY KEY (tenant, partner_id, period)
);

CREATE INDEX deals_by_partner_close ON deals (tenant, partner_id, stage, closed_at);
