-- tokend schema 2: refresh-token rotation state, the revocation log and
-- the shared failed-login counters.

ALTER TABLE tokens ADD COLUMN used_at BIGINT;
ALTER TABLE tokens ADD COLUMN replaced_by TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN grace_used BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX tokens_session ON tokens (tenant, session_id) WHERE session_id <> '';

CREATE TABLE revocations (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant     TEXT NOT NULL,
    scope      TEXT NOT NULL,
    key        TEXT NOT NULL,
    cutoff     BIGINT NOT NULL,
    until      BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX revocations_tenant ON revocations (tenant, seq);
CREATE INDEX revocations_until ON revocations (until) WHERE until IS NOT NULL;

CREATE TABLE throttle (
    key           TEXT PRIMARY KEY,
    failures      BIGINT NOT NULL,
    last_failure  BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL
);
CREATE INDEX throttle_last ON throttle (last_failure);
