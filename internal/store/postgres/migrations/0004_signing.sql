-- tokend schema 4: signing secrets for signed token requests (sealed under
-- the master key: the server must recompute each HMAC) and the signatures
-- already accepted (each is accepted once).

ALTER TABLE devices ADD COLUMN signing_secret BYTEA;
ALTER TABLE users ADD COLUMN signing_secret BYTEA;
ALTER TABLE clients ADD COLUMN signing_secret BYTEA;

CREATE TABLE nonces (
    key        TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX nonces_expires ON nonces (expires_at);
