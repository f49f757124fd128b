-- Analytics events (issue 16): what the mini program reports in batches
-- (source 'client') and what the domains write in the transaction of the
-- change itself (source 'server': order created/paid/refunded, signup,
-- check-in). event_id is unique per shop, so a batch sent twice is stored
-- once. member_id is 0 for an anonymous visitor (anon_id then names the
-- device). at is the time analytics uses (Unix ms, UTC): the client's time,
-- or the server's when the client's clock is off beyond the bound;
-- client_at is what the client said (0 for server events), received_at when
-- the server stored it. props is a JSON object of at most a few KB.
CREATE TABLE analytics_events (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    event_id    TEXT    NOT NULL,
    member_id   INTEGER NOT NULL DEFAULT 0,
    anon_id     TEXT    NOT NULL DEFAULT '',
    name        TEXT    NOT NULL,
    source      TEXT    NOT NULL CHECK (source IN ('client', 'server')),
    at          INTEGER NOT NULL,
    client_at   INTEGER NOT NULL DEFAULT 0,
    received_at INTEGER NOT NULL,
    session_id  TEXT    NOT NULL DEFAULT '',
    page        TEXT    NOT NULL DEFAULT '',
    props       TEXT    NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX analytics_events_event_id ON analytics_events (shop_id, event_id);
-- Funnels read a step's rows by name and time, from the index alone
-- (SQLite's indexes carry the rowid, the id).
CREATE INDEX analytics_events_name_at ON analytics_events (shop_id, name, at, member_id);

-- Event names the shop's code does not declare, for staff to see (a typo in
-- the mini program shows up here instead of silently counting nowhere).
CREATE TABLE analytics_unknown_names (
    id         INTEGER PRIMARY KEY,
    shop_id    INTEGER NOT NULL REFERENCES shops(id),
    name       TEXT    NOT NULL,
    count      INTEGER NOT NULL DEFAULT 0,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL
);
CREATE UNIQUE INDEX analytics_unknown_names_name ON analytics_unknown_names (shop_id, name);
