-- tokend schema 8: the compatible surfaces a tenant serves. One row per
-- tenant and surface holds that surface's settings (JSON); lookup_key is
-- what a legacy request names the tenant by (an account key, a store
-- hash), unique per surface when set.

CREATE TABLE tenant_surfaces (
    tenant     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    lookup_key TEXT NOT NULL DEFAULT '',
    settings   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, name)
);

CREATE UNIQUE INDEX tenant_surfaces_lookup ON tenant_surfaces (name, lookup_key) WHERE lookup_key <> '';
