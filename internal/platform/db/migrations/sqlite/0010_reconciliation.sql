-- Daily reconciliation of WeChat Pay's trade bill against our payments and
-- refunds: one report per shop and China-time day, with every difference.

CREATE TABLE reconciliations (
    id             INTEGER PRIMARY KEY,
    shop_id        INTEGER NOT NULL REFERENCES shops(id),
    bill_date      TEXT    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('matched','differences','failed')),
    wechat_paid    INTEGER NOT NULL DEFAULT 0,
    wechat_refund  INTEGER NOT NULL DEFAULT 0,
    our_paid       INTEGER NOT NULL DEFAULT 0,
    our_refund     INTEGER NOT NULL DEFAULT 0,
    differences    INTEGER NOT NULL DEFAULT 0,
    error          TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    UNIQUE (shop_id, bill_date)
);

CREATE TABLE reconciliation_items (
    id                 INTEGER PRIMARY KEY,
    shop_id            INTEGER NOT NULL REFERENCES shops(id),
    reconciliation_id  INTEGER NOT NULL REFERENCES reconciliations(id),
    kind               TEXT    NOT NULL,
    out_trade_no       TEXT    NOT NULL DEFAULT '',
    out_refund_no      TEXT    NOT NULL DEFAULT '',
    ours               INTEGER NOT NULL DEFAULT 0,
    theirs             INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX reconciliation_items_report ON reconciliation_items (reconciliation_id);
