-- tokend schema 10: the credentials of seed 004's (apstrata's) signed
-- requests, imported from the legacy system and sealed under the master
-- key: an account owner's secret, a user's or device's password MD5.

ALTER TABLE devices ADD COLUMN legacy_secret BLOB;
ALTER TABLE users ADD COLUMN legacy_secret BLOB;
ALTER TABLE clients ADD COLUMN legacy_secret BLOB;
