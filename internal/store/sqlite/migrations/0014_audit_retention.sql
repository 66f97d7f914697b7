-- tokend schema 14: audit retention. Pruning deletes the oldest events of
-- a tenant's chain and keeps, per tenant, a checkpoint of the last one it
-- deleted, signed with a key derived from the master key, from which the
-- remaining chain is verified.

CREATE TABLE audit_checkpoints (
    tenant     TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    hash       BLOB NOT NULL,
    event_time INTEGER NOT NULL,
    pruned_at  INTEGER NOT NULL,
    sig        BLOB NOT NULL
);
