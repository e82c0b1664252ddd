-- Four-eyes activation: an activation asked for by one admin waits for a
-- second admin's approval before the plugin goes live.

CREATE TABLE activation_requests (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant          TEXT NOT NULL REFERENCES tenants(slug),
    hook            TEXT NOT NULL,
    plugin_hash     TEXT NOT NULL REFERENCES plugins(hash),
    reason          TEXT NOT NULL,
    fixtures        TEXT NOT NULL,
    requested_by    TEXT NOT NULL,
    requested_at    INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'withdrawn')),
    decided_by      TEXT,
    decided_at      INTEGER
);

CREATE INDEX activation_requests_by_tenant ON activation_requests (tenant, status, id);
