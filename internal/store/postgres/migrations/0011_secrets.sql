-- tokend schema 11: where a client's secret lives when tokend does not
-- keep its hash (a HashiCorp Vault KV v2 secret, or one sealed under the
-- master key), as the JSON of a secrets.Ref; '' when the client has a
-- stored secret hash or none.

ALTER TABLE clients ADD COLUMN secret_ref TEXT NOT NULL DEFAULT '';
