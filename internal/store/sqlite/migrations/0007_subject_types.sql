-- tokend schema 7: subjects are keyed by type and id. Subject revocations
-- record the subject's type (entries without one match every type), and a
-- lock row per subject serialises token limits, rotation and renewal
-- (SQLite's single writer already does; the table keeps both schemas
-- alike).

ALTER TABLE revocations ADD COLUMN subject_type TEXT NOT NULL DEFAULT '';

CREATE TABLE subject_locks (
    tenant       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    subject_type TEXT NOT NULL,
    subject      TEXT NOT NULL,
    locked_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant, subject_type, subject)
);
