-- A person's decision (a partner manager approving or rejecting a
-- registration in review) is recorded in the decision log like a plugin's,
-- with who made it instead of a plugin hash (plugin_hash is then '').
ALTER TABLE decisions ADD COLUMN actor TEXT;
