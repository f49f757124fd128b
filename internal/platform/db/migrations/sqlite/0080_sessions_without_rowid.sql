-- Sessions keyed by their token's hash alone (issue 19): every request of
-- a buyer or staff member looks its session up by token_hash. In a rowid
-- table with a TEXT primary key that is two B-tree descents (the primary
-- key's index, then the table by rowid); WITHOUT ROWID stores the row in
-- the primary key's B-tree, one descent. Same columns, same indexes.
CREATE TABLE sessions_new (
    token_hash  TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('member','staff')),
    subject_id  INTEGER NOT NULL,
    shop_id     INTEGER,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO sessions_new (token_hash, kind, subject_id, shop_id, created_at, expires_at)
    SELECT token_hash, kind, subject_id, shop_id, created_at, expires_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_subject ON sessions (kind, subject_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);
