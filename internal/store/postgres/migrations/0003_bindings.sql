-- tokend schema 3: bindings of a token that an opaque token (API key)
-- must carry in the ledger, since it has no claims of its own.

ALTER TABLE tokens ADD COLUMN origins TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tokens ADD COLUMN channels TEXT NOT NULL DEFAULT '[]';
