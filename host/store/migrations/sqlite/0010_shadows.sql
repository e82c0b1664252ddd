-- Shadow plugins: a candidate that runs beside the live plugin on live
-- traffic; its results are recorded and compared, never acted on.

CREATE TABLE shadows (
    tenant      TEXT NOT NULL REFERENCES tenants(slug),
    hook        TEXT NOT NULL,
    plugin_hash TEXT NOT NULL REFERENCES plugins(hash),
    started_by  TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant, hook)
);

CREATE TABLE shadow_results (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant      TEXT NOT NULL REFERENCES tenants(slug),
    hook        TEXT NOT NULL,
    plugin_hash TEXT NOT NULL,
    decision_id INTEGER NOT NULL REFERENCES decisions(id),
    agree       BOOLEAN NOT NULL,           -- same result, explanations aside
    live        TEXT NOT NULL,              -- the live result, JSON
    shadow      TEXT NOT NULL,              -- the shadow's result, JSON
    duration_us INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE INDEX shadow_results_by_plugin ON shadow_results (tenant, hook, plugin_hash, id);
