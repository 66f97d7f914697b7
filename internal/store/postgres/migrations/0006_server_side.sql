-- tokend schema 6: a storefront token the tenant policy lets servers use
-- without an Origin.

ALTER TABLE tokens ADD COLUMN server_side BOOLEAN NOT NULL DEFAULT FALSE;
