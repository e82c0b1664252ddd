-- Notifications: every decision puts an event in the outbox; a delivery
-- worker posts it to the tenant's webhook, signed, retrying with backoff.

ALTER TABLE tenants ADD COLUMN webhook_url TEXT;
ALTER TABLE tenants ADD COLUMN webhook_secret TEXT;

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant          TEXT NOT NULL REFERENCES tenants(slug),
    event           TEXT NOT NULL,          -- registration.decided, lead.routed, ...
    payload         TEXT NOT NULL,          -- JSON
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL
);

CREATE INDEX outbox_due ON outbox (delivered_at, next_attempt_at);
