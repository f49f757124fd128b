-- The staff audit log (internal/audit, issue 18): every staff request that
-- changes data or takes personal data out (exports), and the events rooms
-- record themselves (logins, reveals, resets): who (account, username, role,
-- address), when, what (method and route, the path, the redacted request),
-- the resource before (read through its GET route) and the answer after.
--
-- Append-only: a row is written once; the sealer (one per cluster, under
-- the lock of the audit_chain row) gives it its place in the chain (seq)
-- and hash = HMAC-SHA256(key, prev_hash || the row's fields), where the key
-- is derived from the deployment's secret key, which does not live in the
-- database. The triggers refuse changing a row's fields, changing a sealed
-- row at all, and deleting a row younger than 180 days; whoever removes the
-- triggers still cannot edit, delete or reorder sealed rows without
-- `kaidian audit verify` noticing.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER,
    at          INTEGER NOT NULL,
    actor_id    INTEGER,
    actor       TEXT    NOT NULL DEFAULT '',
    role        TEXT    NOT NULL DEFAULT '',
    addr        TEXT    NOT NULL DEFAULT '',
    action      TEXT    NOT NULL,
    target      TEXT    NOT NULL DEFAULT '',
    status      INTEGER NOT NULL DEFAULT 0,
    request     TEXT    NOT NULL DEFAULT '',
    before_json TEXT    NOT NULL DEFAULT '',
    after_json  TEXT    NOT NULL DEFAULT '',
    request_id  TEXT    NOT NULL DEFAULT '',
    seq         INTEGER UNIQUE,
    prev_hash   TEXT,
    hash        TEXT
);
CREATE INDEX audit_log_shop ON audit_log (shop_id, id);
CREATE INDEX audit_log_unsealed ON audit_log (id) WHERE hash IS NULL;
CREATE INDEX audit_log_at ON audit_log (at);

-- The head of the chain: the last sealed position and its hash, and where
-- the chain now starts after retention pruned older rows. Its one row is
-- written by the first seal (a migration writes no rows: a restore goes into
-- an empty database).
CREATE TABLE audit_chain (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    seq         INTEGER NOT NULL,
    hash        TEXT    NOT NULL,
    pruned_seq  INTEGER NOT NULL,
    pruned_hash TEXT    NOT NULL,
    sealed_at   INTEGER NOT NULL
);

CREATE TRIGGER audit_log_sealed_rows_stay BEFORE UPDATE ON audit_log
WHEN OLD.hash IS NOT NULL
  OR NEW.id IS NOT OLD.id OR NEW.shop_id IS NOT OLD.shop_id OR NEW.at IS NOT OLD.at
  OR NEW.actor_id IS NOT OLD.actor_id OR NEW.actor IS NOT OLD.actor OR NEW.role IS NOT OLD.role
  OR NEW.addr IS NOT OLD.addr OR NEW.action IS NOT OLD.action OR NEW.target IS NOT OLD.target
  OR NEW.status IS NOT OLD.status OR NEW.request IS NOT OLD.request
  OR NEW.before_json IS NOT OLD.before_json OR NEW.after_json IS NOT OLD.after_json
  OR NEW.request_id IS NOT OLD.request_id
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_kept_180_days BEFORE DELETE ON audit_log
WHEN OLD.at > (CAST(strftime('%s', 'now') AS INTEGER) - 180 * 86400) * 1000
BEGIN
    SELECT RAISE(ABORT, 'audit_log rows are kept at least 180 days');
END;
