-- After-sales: a buyer's refund request on a paid order, its own state
-- (requested → approved | rejected | cancelled) and its log.

CREATE TABLE aftersales (
    id             INTEGER PRIMARY KEY,
    shop_id        INTEGER NOT NULL REFERENCES shops(id),
    order_id       INTEGER NOT NULL REFERENCES orders(id),
    member_id      INTEGER NOT NULL REFERENCES members(id),
    amount         INTEGER NOT NULL CHECK (amount > 0),
    reason         TEXT    NOT NULL,
    photos         TEXT    NOT NULL DEFAULT '[]',
    status         TEXT    NOT NULL DEFAULT 'requested' CHECK (status IN ('requested','approved','rejected','cancelled')),
    reject_reason  TEXT    NOT NULL DEFAULT '',
    refund_id      INTEGER REFERENCES refunds(id),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX aftersales_shop ON aftersales (shop_id, status, id);
CREATE INDEX aftersales_member ON aftersales (shop_id, member_id, id);
CREATE UNIQUE INDEX aftersales_open ON aftersales (order_id) WHERE status = 'requested';

CREATE TABLE aftersale_events (
    id            INTEGER PRIMARY KEY,
    shop_id       INTEGER NOT NULL REFERENCES shops(id),
    aftersale_id  INTEGER NOT NULL REFERENCES aftersales(id),
    actor         TEXT    NOT NULL,
    from_status   TEXT    NOT NULL,
    to_status     TEXT    NOT NULL,
    note          TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
);
CREATE INDEX aftersale_events_request ON aftersale_events (aftersale_id, id);
