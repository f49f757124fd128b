-- The buying path: carts, orders with their lines and event log, stock
-- locks and a stock ledger. skus.stock is what can still be sold;
-- skus.locked is held by unpaid orders.

ALTER TABLE skus ADD COLUMN locked INTEGER NOT NULL DEFAULT 0 CHECK (locked >= 0);
ALTER TABLE shops ADD COLUMN unpaid_cancel_minutes INTEGER NOT NULL DEFAULT 15;
ALTER TABLE shops ADD COLUMN shipping_fee INTEGER NOT NULL DEFAULT 0;
ALTER TABLE shops ADD COLUMN free_shipping_over INTEGER NOT NULL DEFAULT 0;

CREATE TABLE cart_items (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    member_id   INTEGER NOT NULL REFERENCES members(id),
    sku_id      INTEGER NOT NULL REFERENCES skus(id),
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    selected    BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (shop_id, member_id, sku_id)
);

-- address is the JSON snapshot taken at checkout. Amounts are fen:
-- total = goods + shipping - discount.
CREATE TABLE orders (
    id               INTEGER PRIMARY KEY,
    shop_id          INTEGER NOT NULL REFERENCES shops(id),
    member_id        INTEGER NOT NULL REFERENCES members(id),
    order_no         TEXT    NOT NULL UNIQUE,
    status           TEXT    NOT NULL CHECK (status IN ('pending_payment','paid','shipped','completed','cancelled','closed')),
    goods_amount     INTEGER NOT NULL CHECK (goods_amount >= 0),
    shipping_fee     INTEGER NOT NULL CHECK (shipping_fee >= 0),
    discount_amount  INTEGER NOT NULL DEFAULT 0 CHECK (discount_amount >= 0),
    total_amount     INTEGER NOT NULL CHECK (total_amount >= 0),
    paid_amount      INTEGER NOT NULL DEFAULT 0,
    refunded_amount  INTEGER NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= paid_amount),
    address          TEXT    NOT NULL,
    buyer_note       TEXT    NOT NULL DEFAULT '',
    staff_note       TEXT    NOT NULL DEFAULT '',
    phone            TEXT    NOT NULL DEFAULT '',
    idempotency_key  TEXT    NOT NULL,
    request_hash     TEXT    NOT NULL DEFAULT '',
    pay_deadline     INTEGER NOT NULL,
    carrier          TEXT    NOT NULL DEFAULT '',
    tracking_no      TEXT    NOT NULL DEFAULT '',
    transaction_id   TEXT    NOT NULL DEFAULT '',
    paid_at          INTEGER,
    shipped_at       INTEGER,
    completed_at     INTEGER,
    cancelled_at     INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (shop_id, member_id, idempotency_key)
);
CREATE INDEX orders_member ON orders (shop_id, member_id, status, id);
CREATE INDEX orders_shop ON orders (shop_id, status, id);
CREATE INDEX orders_shop_created ON orders (shop_id, created_at);
CREATE INDEX orders_phone ON orders (shop_id, phone);

-- tax_rate is in basis points: 1300 = 13% (goods), 600 = 6% (services, digital content).
CREATE TABLE order_lines (
    id           INTEGER PRIMARY KEY,
    shop_id      INTEGER NOT NULL REFERENCES shops(id),
    order_id     INTEGER NOT NULL REFERENCES orders(id),
    spu_id       INTEGER NOT NULL REFERENCES spus(id),
    sku_id       INTEGER NOT NULL REFERENCES skus(id),
    title        TEXT    NOT NULL,
    spec_values  TEXT    NOT NULL DEFAULT '[]',
    image        TEXT    NOT NULL DEFAULT '',
    unit_price   INTEGER NOT NULL CHECK (unit_price >= 0),
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    amount       INTEGER NOT NULL CHECK (amount >= 0),
    tax_rate     INTEGER NOT NULL DEFAULT 1300
);
CREATE INDEX order_lines_order ON order_lines (order_id);

-- Every transition of an order: who (member:ID, staff:ID or system), when,
-- from which status to which, and why.
CREATE TABLE order_events (
    id           INTEGER PRIMARY KEY,
    shop_id      INTEGER NOT NULL REFERENCES shops(id),
    order_id     INTEGER NOT NULL REFERENCES orders(id),
    actor        TEXT    NOT NULL,
    from_status  TEXT    NOT NULL,
    to_status    TEXT    NOT NULL,
    reason       TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL
);
CREATE INDEX order_events_order ON order_events (order_id, id);

-- Every stock movement: lock (order created), release (order cancelled),
-- deduct (order paid: locked units leave), adjust (staff).
CREATE TABLE stock_ledger (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    sku_id      INTEGER NOT NULL REFERENCES skus(id),
    order_id    INTEGER REFERENCES orders(id),
    kind        TEXT    NOT NULL CHECK (kind IN ('lock','release','deduct','adjust')),
    quantity    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX stock_ledger_sku ON stock_ledger (sku_id, id);
