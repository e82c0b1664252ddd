-- Tenants (companies), their API keys, the plugins they run, which plugin
-- serves each hook, and the log of every hook decision.

CREATE TABLE tenants (
    slug        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    currency    TEXT NOT NULL,
    program     TEXT NOT NULL,          -- the policy.toml it was created from
    created_at  INTEGER NOT NULL
);

CREATE TABLE api_keys (
    key_hash    TEXT PRIMARY KEY,       -- sha256 of the key, hex; never the key
    tenant      TEXT NOT NULL REFERENCES tenants(slug),
    role        TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'partner')),
    created_at  INTEGER NOT NULL
);

CREATE TABLE plugins (
    hash        TEXT PRIMARY KEY,       -- sha256 of the component, hex
    name        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    hooks       TEXT NOT NULL,          -- comma-separated hook names
    wasm        BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE bindings (
    tenant      TEXT NOT NULL REFERENCES tenants(slug),
    hook        TEXT NOT NULL,
    plugin_hash TEXT NOT NULL REFERENCES plugins(hash),
    PRIMARY KEY (tenant, hook)
);

CREATE TABLE decisions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant      TEXT NOT NULL REFERENCES tenants(slug),
    hook        TEXT NOT NULL,
    plugin_hash TEXT NOT NULL,
    event_time  INTEGER NOT NULL,
    outcome     TEXT NOT NULL,          -- 'ok' or the error kind
    record      TEXT NOT NULL,          -- the runtime's call record, JSON
    decision    TEXT NOT NULL,          -- what the workflow acts on, JSON
    fallback    INTEGER NOT NULL,       -- 1 when the plugin failed
    created_at  INTEGER NOT NULL
);

CREATE INDEX decisions_by_tenant_hook ON decisions (tenant, hook, id);
