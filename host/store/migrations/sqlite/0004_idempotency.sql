-- Responses to POST requests sent with an Idempotency-Key, so a retried
-- request gets the first response instead of creating a second record.

CREATE TABLE idempotency (
    scope           TEXT NOT NULL,      -- sha256 of the caller's API key
    key             TEXT NOT NULL,      -- the Idempotency-Key header
    request_hash    TEXT NOT NULL,      -- sha256 of method, path and body
    status          INTEGER NOT NULL,   -- 0 while the first request runs
    body            BLOB,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);
