-- Media: images and files staff upload, stored in the blob store under a
-- content-addressed key (shop/<id>/<sha256>.<ext>), so the same bytes are
-- stored once per shop and a URL never changes meaning. moderation is the
-- WeChat image check's state: unchecked (no credentials), pending (queued
-- or asked, trace_id set), approved, rejected (not served).
CREATE TABLE media (
    id            INTEGER PRIMARY KEY,
    shop_id       INTEGER NOT NULL REFERENCES shops(id),
    blob_key      TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('product','banner','cover','attachment')),
    content_type  TEXT    NOT NULL,
    size          INTEGER NOT NULL CHECK (size >= 0),
    width         INTEGER NOT NULL DEFAULT 0,
    height        INTEGER NOT NULL DEFAULT 0,
    sha256        TEXT    NOT NULL,
    thumb_small   TEXT    NOT NULL DEFAULT '',
    thumb_large   TEXT    NOT NULL DEFAULT '',
    moderation    TEXT    NOT NULL DEFAULT 'unchecked' CHECK (moderation IN ('unchecked','pending','approved','rejected')),
    trace_id      TEXT    NOT NULL DEFAULT '',
    created_by    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (shop_id, blob_key)
);
CREATE INDEX media_trace ON media (shop_id, trace_id) WHERE trace_id <> '';
CREATE UNIQUE INDEX media_sha256 ON media (shop_id, sha256);
CREATE INDEX media_shop_list ON media (shop_id, id);
