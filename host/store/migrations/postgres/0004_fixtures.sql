-- Policy tests: each company's fixtures (one hook input and the result
-- expected), run when a plugin is published or activated; and what they
-- said each time.

CREATE TABLE fixtures (
    tenant      TEXT NOT NULL REFERENCES tenants(slug),
    name        TEXT NOT NULL,              -- <hook>/<file stem>
    hook        TEXT NOT NULL,
    body        TEXT NOT NULL,              -- the fixture file's JSON
    PRIMARY KEY (tenant, name)
);

ALTER TABLE publications ADD COLUMN fixtures TEXT NOT NULL DEFAULT '';
ALTER TABLE binding_changes ADD COLUMN fixtures TEXT NOT NULL DEFAULT '';
