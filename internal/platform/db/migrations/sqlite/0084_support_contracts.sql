-- A shop's maintenance contract with its provider (internal/support): a
-- free period, then a package per period (a number of requests, or of
-- hours, for a price) and an hourly rate for work beyond it; the time
-- spent on each ticket; and change requests' estimates, which the shop
-- approves before work starts. Money in fen.
CREATE TABLE support_contracts (
    shop_id           INTEGER PRIMARY KEY REFERENCES shops(id),
    free_until        INTEGER NOT NULL DEFAULT 0,
    package_kind      TEXT    NOT NULL CHECK (package_kind IN ('none','requests','hours')),
    package_period    TEXT    NOT NULL CHECK (package_period IN ('month','quarter','year')),
    package_quota     INTEGER NOT NULL CHECK (package_quota >= 0),
    package_price     INTEGER NOT NULL CHECK (package_price >= 0),
    package_starts_at INTEGER NOT NULL,
    hourly_rate       INTEGER NOT NULL CHECK (hourly_rate >= 0),
    updated_by        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

CREATE TABLE ticket_time (
    id         INTEGER PRIMARY KEY,
    shop_id    INTEGER NOT NULL REFERENCES shops(id),
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id),
    minutes    INTEGER NOT NULL CHECK (minutes > 0 AND minutes <= 1440),
    note       TEXT    NOT NULL DEFAULT '',
    spent_by   INTEGER NOT NULL,
    spent_at   INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX ticket_time_shop_spent ON ticket_time (shop_id, spent_at);
CREATE INDEX ticket_time_ticket ON ticket_time (ticket_id);

ALTER TABLE tickets ADD COLUMN estimate_minutes INTEGER;
ALTER TABLE tickets ADD COLUMN estimate_approved_at INTEGER;
ALTER TABLE tickets ADD COLUMN response_reminded_at INTEGER;
