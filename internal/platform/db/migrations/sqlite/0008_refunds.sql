-- Refunds: each request has its own unique out_refund_no. orders.refunded_amount
-- counts refunds requested and not failed, so the sum can never pass what was
-- paid, even when requests race.

CREATE TABLE refunds (
    id             INTEGER PRIMARY KEY,
    shop_id        INTEGER NOT NULL REFERENCES shops(id),
    order_id       INTEGER NOT NULL REFERENCES orders(id),
    out_refund_no  TEXT    NOT NULL UNIQUE,
    amount         INTEGER NOT NULL CHECK (amount > 0),
    total          INTEGER NOT NULL,
    reason         TEXT    NOT NULL DEFAULT '',
    late_payment   BOOLEAN NOT NULL DEFAULT FALSE,
    status         TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','processing','succeeded','failed','abnormal')),
    refund_id      TEXT    NOT NULL DEFAULT '',
    last_error     TEXT    NOT NULL DEFAULT '',
    requested_by   TEXT    NOT NULL,
    succeeded_at   INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX refunds_order ON refunds (shop_id, order_id);
CREATE INDEX refunds_status ON refunds (shop_id, status);
