-- SQLite's sessions table becomes WITHOUT ROWID in this version (one
-- B-tree descent per session lookup). PostgreSQL's primary-key lookup is
-- already one index scan; nothing changes here but the table's comment.
COMMENT ON TABLE sessions IS 'buyer and staff sessions; only the SHA-256 of each token is kept';
