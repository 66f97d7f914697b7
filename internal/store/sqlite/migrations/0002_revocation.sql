-- tokend schema 2: refresh-token rotation state, the revocation log and
-- the shared failed-login counters.

ALTER TABLE tokens ADD COLUMN used_at INTEGER;
ALTER TABLE tokens ADD COLUMN replaced_by TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN grace_used INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tokens_session ON tokens (tenant, session_id) WHERE session_id <> '';

CREATE TABLE revocations (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant     TEXT NOT NULL,
    scope      TEXT NOT NULL,
    key        TEXT NOT NULL,
    cutoff     INTEGER NOT NULL,
    until      INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX revocations_tenant ON revocations (tenant, seq);
CREATE INDEX revocations_until ON revocations (until) WHERE until IS NOT NULL;

CREATE TABLE throttle (
    key           TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL,
    last_failure  INTEGER NOT NULL,
    blocked_until INTEGER NOT NULL
);
CREATE INDEX throttle_last ON throttle (last_failure);
