-- tokend schema 14: audit retention. Pruning deletes the oldest events of
-- a tenant's chain and keeps, per tenant, a checkpoint of the last one it
-- deleted, signed with a key derived from the master key, from which the
-- remaining chain is verified.

CREATE TABLE audit_checkpoints (
    tenant     TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    hash       BYTEA NOT NULL,
    event_time BIGINT NOT NULL,
    pruned_at  BIGINT NOT NULL,
    sig        BYTEA NOT NULL
);
