-- tokend schema 9: a device's current token id (jti). A token of the
-- compact HS256 format whose subject is a device is valid only while its
-- jti is the device's current one (as a Rails/Knock store checks it), so a
-- rotation takes effect at its commit on every replica.

ALTER TABLE devices ADD COLUMN jti TEXT NOT NULL DEFAULT '';
