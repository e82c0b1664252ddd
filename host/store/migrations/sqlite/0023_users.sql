-- People who sign in to the portal (issue 17): users with an argon2id
-- password hash, the one-time invitations that create them, their
-- sessions, and failed sign-ins (kept in the database so the throttle
-- holds across replicas). Tokens are stored only as their sha256.

CREATE TABLE users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant          TEXT NOT NULL REFERENCES tenants(slug),
    email           TEXT NOT NULL UNIQUE,       -- lower case: unique across the service
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'partner')),
    partner_id      TEXT,                       -- set for role 'partner' only
    password_hash   TEXT NOT NULL,              -- argon2id, PHC string
    created_at      INTEGER NOT NULL,
    CHECK ((role = 'partner') = (partner_id IS NOT NULL))
);

CREATE TABLE invitations (
    token_hash      TEXT PRIMARY KEY,           -- sha256 of the link's token, hex
    tenant          TEXT NOT NULL REFERENCES tenants(slug),
    email           TEXT NOT NULL,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'partner')),
    partner_id      TEXT,
    created_by      TEXT NOT NULL,              -- who invited: a key id, user:<email> or cli
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER                      -- set once, when the user is created
);
CREATE INDEX invitations_tenant ON invitations (tenant);

CREATE TABLE sessions (
    token_hash      TEXT PRIMARY KEY,           -- sha256 of the cookie's token, hex
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf            TEXT NOT NULL,              -- the token every form of the session carries
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL             -- the absolute end
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE sign_in_failures (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    email           TEXT NOT NULL,              -- as typed, lower case; need not be a user's
    at              INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_email ON sign_in_failures (email, at);
