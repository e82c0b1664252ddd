-- The plugin lifecycle: which plugins each company published (the bytes
-- stay content-addressed in `plugins`, shared), and every change of a
-- company's bindings: who, when, why, from which hash to which.

CREATE TABLE publications (
    tenant          TEXT NOT NULL REFERENCES tenants(slug),
    hash            TEXT NOT NULL REFERENCES plugins(hash),
    name            TEXT NOT NULL,
    version         TEXT NOT NULL,
    hooks           TEXT NOT NULL,          -- comma-separated hook names
    wit_version     TEXT NOT NULL,
    size            INTEGER NOT NULL,
    published_by    TEXT NOT NULL,          -- the publishing key's id
    published_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant, hash)
);

CREATE TABLE binding_changes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant      TEXT NOT NULL REFERENCES tenants(slug),
    hook        TEXT NOT NULL,
    from_hash   TEXT,                       -- NULL for the first binding
    to_hash     TEXT NOT NULL,
    changed_by  TEXT NOT NULL,
    reason      TEXT NOT NULL,
    changed_at  INTEGER NOT NULL
);

CREATE INDEX binding_changes_by_hook ON binding_changes (tenant, hook, id);
