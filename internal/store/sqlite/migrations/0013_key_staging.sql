-- tokend schema 13: staged key rotation. A key in state 'next' is
-- published in the JWKS before it signs, from activate_at on; a tenant has
-- at most one such key at a time.

ALTER TABLE signing_keys ADD COLUMN activate_at INTEGER;
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (tenant) WHERE state = 'next';
CREATE INDEX signing_keys_next_due ON signing_keys (activate_at) WHERE state = 'next';
