-- API keys can be revoked: a revoked key authenticates nothing; its row
-- stays, so audit records naming it (`key:<12 hex>`) still resolve.
ALTER TABLE api_keys ADD COLUMN revoked_at INTEGER;
ALTER TABLE api_keys ADD COLUMN revoked_by TEXT;
CREATE INDEX api_keys_tenant ON api_keys (tenant);
