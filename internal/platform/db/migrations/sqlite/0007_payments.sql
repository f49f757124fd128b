-- Payments: one row per order and channel (the payment attempt), and the
-- notification events already applied, so a redelivery changes nothing.

CREATE TABLE payments (
    id              INTEGER PRIMARY KEY,
    shop_id         INTEGER NOT NULL REFERENCES shops(id),
    order_id        INTEGER NOT NULL REFERENCES orders(id),
    channel         TEXT    NOT NULL DEFAULT 'wechatpay',
    out_trade_no    TEXT    NOT NULL,
    prepay_id       TEXT    NOT NULL DEFAULT '',
    prepay_at       INTEGER NOT NULL DEFAULT 0,
    amount          INTEGER NOT NULL CHECK (amount >= 0),
    status          TEXT    NOT NULL DEFAULT 'created' CHECK (status IN ('created','paid','closed','paid_late')),
    transaction_id  TEXT    NOT NULL DEFAULT '',
    paid_at         INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (shop_id, order_id, channel)
);
CREATE INDEX payments_day ON payments (shop_id, created_at);

CREATE TABLE payment_events (
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    event_id    TEXT    NOT NULL,
    event_type  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (shop_id, event_id)
);
