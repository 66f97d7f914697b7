-- tokend schema 12: identities from other providers. trusted_issuers holds
-- the external OpenID Connect / OAuth issuers a tenant accepts tokens of
-- (RFC 8693 token exchange, RFC 7523 jwt-bearer), one row per tenant and
-- issuer URL; settings is the issuer's JSON configuration (audiences,
-- algorithms, user mapping, introspection endpoint) and
-- introspection_secret its sealed client secret. assertion_jtis records
-- each accepted jwt-bearer jti once, shared by every replica, until the
-- assertion expires. The ledger records which grant made a token and, for
-- an exchanged one, the external issuer and subject.

CREATE TABLE trusted_issuers (
    tenant               TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id                   TEXT NOT NULL,
    issuer               TEXT NOT NULL,
    settings             TEXT NOT NULL,
    introspection_secret BLOB,
    disabled             INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE UNIQUE INDEX trusted_issuers_issuer ON trusted_issuers (tenant, issuer);

CREATE TABLE assertion_jtis (
    tenant     TEXT NOT NULL,
    issuer     TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, issuer, jti)
);

CREATE INDEX assertion_jtis_expires ON assertion_jtis (expires_at);

ALTER TABLE tokens ADD COLUMN grant_type TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN idp TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN external_subject TEXT NOT NULL DEFAULT '';
