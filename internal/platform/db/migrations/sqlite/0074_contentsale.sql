-- Selling paid content through WeChat virtual payment (虚拟支付, xpay;
-- issue 13): each shop's xpay keys (sealed), the registered items (道具)
-- by price, members' session keys (sealed; xpay signs with them), content
-- orders with their event log, gifts with a claim code, and free trials.
-- Entitlements themselves live in content_entitlements (migration 0071).

CREATE TABLE content_sale_settings (
    shop_id              INTEGER  PRIMARY KEY REFERENCES shops(id),
    offer_id             TEXT    NOT NULL DEFAULT '',
    app_key              TEXT    NOT NULL DEFAULT '',
    sandbox_app_key      TEXT    NOT NULL DEFAULT '',
    env                  INTEGER NOT NULL DEFAULT 0 CHECK (env IN (0, 1)),
    refund_days          INTEGER NOT NULL DEFAULT 3 CHECK (refund_days BETWEEN 0 AND 30),
    refund_max_consumed  INTEGER NOT NULL DEFAULT 20 CHECK (refund_max_consumed BETWEEN 0 AND 100),
    updated_at           INTEGER  NOT NULL
);

CREATE TABLE xpay_items (
    shop_id     INTEGER  NOT NULL REFERENCES shops(id),
    item_id     TEXT    NOT NULL,
    price_fen   INTEGER  NOT NULL CHECK (price_fen > 0),
    name        TEXT    NOT NULL,
    created_at  INTEGER  NOT NULL,
    PRIMARY KEY (shop_id, item_id),
    UNIQUE (shop_id, price_fen)
);

CREATE TABLE xpay_session_keys (
    shop_id      INTEGER  NOT NULL REFERENCES shops(id),
    member_id    INTEGER  NOT NULL REFERENCES members(id),
    session_key  TEXT    NOT NULL,
    updated_at   INTEGER  NOT NULL,
    PRIMARY KEY (shop_id, member_id)
);

CREATE TABLE content_orders (
    id              INTEGER PRIMARY KEY,
    shop_id         INTEGER  NOT NULL REFERENCES shops(id),
    member_id       INTEGER  NOT NULL REFERENCES members(id),
    out_trade_no    TEXT    NOT NULL,
    target_kind     TEXT    NOT NULL CHECK (target_kind IN ('course', 'package', 'plan', 'camp')),
    target_id       INTEGER  NOT NULL,
    title           TEXT    NOT NULL,
    list_fen        INTEGER  NOT NULL CHECK (list_fen >= 0),
    price_fen       INTEGER  NOT NULL CHECK (price_fen > 0),
    item_id         TEXT    NOT NULL,
    env             INTEGER NOT NULL,
    days            INTEGER NOT NULL DEFAULT 0,
    platform        TEXT    NOT NULL DEFAULT 'other' CHECK (platform IN ('ios', 'android', 'other')),
    gift            BOOLEAN NOT NULL DEFAULT FALSE,
    state           TEXT    NOT NULL DEFAULT 'created'
                    CHECK (state IN ('created', 'paid', 'refunding', 'refunded', 'refund_failed', 'closed')),
    wx_order_id     TEXT    NOT NULL DEFAULT '',
    paid_fen        INTEGER  NOT NULL DEFAULT 0,
    paid_at         INTEGER,
    provided_at     INTEGER,
    refund_no       TEXT    NOT NULL DEFAULT '',
    refund_reason   TEXT    NOT NULL DEFAULT '',
    refund_from     TEXT    NOT NULL DEFAULT '',
    refund_error    TEXT    NOT NULL DEFAULT '',
    refund_asked_at INTEGER,
    refunded_at     INTEGER,
    revoked_at      INTEGER,
    next_check_at   INTEGER,
    checks          INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER  NOT NULL,
    updated_at      INTEGER  NOT NULL,
    UNIQUE (shop_id, out_trade_no)
);
CREATE INDEX content_orders_member ON content_orders (shop_id, member_id, id);
CREATE INDEX content_orders_check ON content_orders (next_check_at) WHERE next_check_at IS NOT NULL;
CREATE INDEX content_orders_target ON content_orders (shop_id, target_kind, target_id) WHERE paid_at IS NOT NULL;

CREATE TABLE content_order_events (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER  NOT NULL REFERENCES shops(id),
    order_id    INTEGER  NOT NULL REFERENCES content_orders(id),
    kind        TEXT    NOT NULL,
    detail      TEXT    NOT NULL DEFAULT '',
    actor       TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER  NOT NULL
);
CREATE INDEX content_order_events_order ON content_order_events (shop_id, order_id, id);

CREATE TABLE content_gifts (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER  NOT NULL REFERENCES shops(id),
    order_id    INTEGER  NOT NULL UNIQUE REFERENCES content_orders(id),
    giver_id    INTEGER  NOT NULL REFERENCES members(id),
    code        TEXT    NOT NULL UNIQUE,
    claimed_by  INTEGER  REFERENCES members(id),
    claimed_at  INTEGER,
    voided_at   INTEGER,
    created_at  INTEGER  NOT NULL
);

CREATE TABLE content_trials (
    shop_id     INTEGER  NOT NULL REFERENCES shops(id),
    plan_id     INTEGER  NOT NULL,
    days        INTEGER NOT NULL CHECK (days BETWEEN 1 AND 90),
    updated_at  INTEGER  NOT NULL,
    PRIMARY KEY (shop_id, plan_id)
);
