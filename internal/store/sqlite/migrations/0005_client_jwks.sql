-- tokend schema 5: public keys a client signs RFC 7523 client assertions
-- with (private_key_jwt), as a JSON Web Key Set.

ALTER TABLE clients ADD COLUMN jwks TEXT NOT NULL DEFAULT '';
