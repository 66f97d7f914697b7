-- tokend schema 7: named positions kept with the data, committed in the
-- same transaction as the rows they account for (how far the ledger
-- journal has been applied).

CREATE TABLE cursors (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
