-- The scorecard scans a period's closed deals: a covering index in close
-- order lets it read only the index.
CREATE INDEX deals_by_close ON deals (tenant, closed_at, partner_id, stage, first_year_acv);
