-- backup_runs records every backup and restore drill (internal/backup):
-- what a backup holds, where it went, and for a drill how long the restore
-- took (RTO) and how old the restored data was (RPO). Deployment-wide, not
-- a shop's: it has no shop_id and only operators see it.
CREATE TABLE backup_runs (
    id             INTEGER PRIMARY KEY,
    kind           TEXT    NOT NULL CHECK (kind IN ('backup','drill')),
    status         TEXT    NOT NULL CHECK (status IN ('ok','failed')),
    file           TEXT    NOT NULL DEFAULT '',
    size           INTEGER NOT NULL DEFAULT 0,
    sha256         TEXT    NOT NULL DEFAULT '',
    schema_version INTEGER NOT NULL DEFAULT 0,
    tables         INTEGER NOT NULL DEFAULT 0,
    row_count      INTEGER NOT NULL DEFAULT 0,
    blobs          INTEGER NOT NULL DEFAULT 0,
    blob_bytes     INTEGER NOT NULL DEFAULT 0,
    offsite        TEXT    NOT NULL DEFAULT '',
    took_ms        INTEGER NOT NULL DEFAULT 0,
    data_age_ms    INTEGER NOT NULL DEFAULT 0,
    error          TEXT    NOT NULL DEFAULT '',
    started_at     INTEGER NOT NULL
);
CREATE INDEX backup_runs_kind ON backup_runs (kind, status, id);
