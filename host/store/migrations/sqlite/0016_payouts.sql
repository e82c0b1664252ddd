-- Payouts (issue 16): a commission line is pending, held, disputed, paid
-- or voided; `approved` and `clawed-back` were never written and read as
-- pending. An adjustment line points at the line it adjusts (`adjusts`),
-- `note` keeps why a person last moved the line, and a paid line names the
-- payout run that paid it. A payout run per company and period pays each
-- partner's payable lines at once: one `payouts` row per partner and
-- currency.
--
-- SQLite cannot change a CHECK constraint in place, so `commission_lines`
-- is rebuilt (no table refers to it). Ids are kept: decisions and events
-- name them.
CREATE TABLE payout_runs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant          TEXT NOT NULL REFERENCES tenants(slug),
    period          TEXT NOT NULL,          -- 'YYYY-MM'
    period_end      INTEGER NOT NULL,       -- lines due before it are payable
    reference       TEXT NOT NULL,
    minimum         INTEGER NOT NULL,       -- the payout minimum applied
    decision_id     INTEGER NOT NULL REFERENCES decisions(id),
    created_at      INTEGER NOT NULL,
    UNIQUE (tenant, period)
);

CREATE TABLE payouts (
    tenant          TEXT NOT NULL REFERENCES tenants(slug),
    run_id          INTEGER NOT NULL REFERENCES payout_runs(id),
    partner_id      TEXT NOT NULL,
    currency        TEXT NOT NULL,
    amount          INTEGER NOT NULL CHECK (amount > 0),
    lines           INTEGER NOT NULL,
    reference       TEXT NOT NULL,
    PRIMARY KEY (run_id, partner_id, currency)
);

CREATE TABLE commission_lines_0016 (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant          TEXT NOT NULL REFERENCES tenants(slug),
    deal_id         TEXT NOT NULL,
    partner_id      TEXT NOT NULL,
    kind            TEXT NOT NULL,
    amount          INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    rate_bps        INTEGER NOT NULL,
    description     TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'held', 'disputed', 'paid', 'voided')),
    due_at          INTEGER NOT NULL,
    decision_id     INTEGER NOT NULL REFERENCES decisions(id),
    created_at      INTEGER NOT NULL,
    adjusts         INTEGER,
    note            TEXT,
    payout_run      INTEGER REFERENCES payout_runs(id)
);
INSERT INTO commission_lines_0016 (id, tenant, deal_id, partner_id, kind, amount, currency, rate_bps, description,
                                   status, due_at, decision_id, created_at)
SELECT id, tenant, deal_id, partner_id, kind, amount, currency, rate_bps, description,
       CASE status WHEN 'approved' THEN 'pending' WHEN 'clawed-back' THEN 'pending' ELSE status END,
       due_at, decision_id, created_at
FROM commission_lines;
DROP TABLE commission_lines;
ALTER TABLE commission_lines_0016 RENAME TO commission_lines;
CREATE INDEX commission_lines_by_partner ON commission_lines (tenant, partner_id, due_at);
CREATE INDEX commission_lines_by_deal ON commission_lines (tenant, deal_id, id);
-- The managers' queues (held, disputed lines). A payout run reads every
-- payable line once; no index follows status or payout_run, so paying a
-- million lines rewrites rows, not index entries.
CREATE INDEX commission_lines_waiting ON commission_lines (tenant, status, id) WHERE status IN ('held', 'disputed');
