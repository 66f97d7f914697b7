-- tokend schema 1 (SQLite). Times are microseconds since the Unix epoch,
-- lists and maps are JSON text.

CREATE TABLE tenants (
    id           TEXT PRIMARY KEY,
    display_name TEXT NOT NULL DEFAULT '',
    policy       TEXT NOT NULL DEFAULT '{}',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE projects (
    tenant       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    audience     TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, audience)
);

CREATE TABLE clients (
    tenant       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    secret_hash  BLOB,
    secret_alg   TEXT NOT NULL DEFAULT '',
    grant_types  TEXT NOT NULL DEFAULT '[]',
    scopes       TEXT NOT NULL DEFAULT '[]',
    audiences    TEXT NOT NULL DEFAULT '[]',
    kinds        TEXT NOT NULL DEFAULT '[]',
    policy       TEXT NOT NULL DEFAULT '{}',
    disabled     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE users (
    tenant        TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    login         TEXT NOT NULL,
    display_name  TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL DEFAULT '',
    roles         TEXT NOT NULL DEFAULT '[]',
    groups_       TEXT NOT NULL DEFAULT '[]',
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, login)
);

CREATE TABLE devices (
    tenant       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    type         TEXT NOT NULL,
    secret_hash  BLOB,
    secret_alg   TEXT NOT NULL DEFAULT '',
    roles        TEXT NOT NULL DEFAULT '[]',
    metadata     TEXT NOT NULL DEFAULT '{}',
    disabled     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE roles (
    tenant      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    scopes      TEXT NOT NULL DEFAULT '[]',
    resources   TEXT NOT NULL DEFAULT '[]',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant, name)
);

CREATE TABLE user_groups (
    tenant      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    roles       TEXT NOT NULL DEFAULT '[]',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant, name)
);

CREATE TABLE signing_keys (
    tenant        TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    alg           TEXT NOT NULL,
    state         TEXT NOT NULL,
    private       BLOB NOT NULL,
    public        BLOB,
    created_at    INTEGER NOT NULL,
    retired_at    INTEGER,
    publish_until INTEGER,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE tokens (
    tenant       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    kind         TEXT NOT NULL,
    format       TEXT NOT NULL,
    hash         BLOB,
    subject_type TEXT NOT NULL DEFAULT '',
    subject      TEXT NOT NULL DEFAULT '',
    client_id    TEXT NOT NULL DEFAULT '',
    session_id   TEXT NOT NULL DEFAULT '',
    family_id    TEXT NOT NULL DEFAULT '',
    actor        TEXT NOT NULL DEFAULT '',
    audience     TEXT NOT NULL DEFAULT '[]',
    scope        TEXT NOT NULL DEFAULT '[]',
    issued_at    INTEGER NOT NULL,
    expires_at   INTEGER,
    lifetime_end INTEGER,
    revoked_at   INTEGER,
    PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX tokens_hash ON tokens (hash) WHERE hash IS NOT NULL;
CREATE INDEX tokens_subject ON tokens (tenant, subject, id);
CREATE INDEX tokens_client ON tokens (tenant, client_id, id);
CREATE INDEX tokens_expires ON tokens (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE audit_events (
    tenant      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    time        INTEGER NOT NULL,
    action      TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    actor       TEXT NOT NULL DEFAULT '',
    subject     TEXT NOT NULL DEFAULT '',
    client_id   TEXT NOT NULL DEFAULT '',
    remote_addr TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT '',
    request_id  TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '{}',
    prev_hash   BLOB,
    hash        BLOB NOT NULL,
    PRIMARY KEY (tenant, seq)
);
CREATE INDEX audit_events_time ON audit_events (tenant, time);

CREATE TABLE audit_heads (
    tenant TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    seq    INTEGER NOT NULL,
    hash   BLOB
);

CREATE TABLE changes (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    entity TEXT NOT NULL,
    key    TEXT NOT NULL,
    time   INTEGER NOT NULL
);
CREATE INDEX changes_time ON changes (time);
