-- Promotions: the pricing snapshot on orders, flash sales with their
-- claims, coupons.

-- original_price is the SKU's list price when a promotion price set
-- unit_price; discount is the line's share of the coupon (fen).
ALTER TABLE order_lines ADD COLUMN original_price INTEGER NOT NULL DEFAULT 0;
ALTER TABLE order_lines ADD COLUMN discount INTEGER NOT NULL DEFAULT 0 CHECK (discount >= 0);
ALTER TABLE order_lines ADD COLUMN flash_sale_id INTEGER;
-- breakdown is the pricing engine's itemised result (JSON) as shown at checkout.
ALTER TABLE orders ADD COLUMN breakdown TEXT NOT NULL DEFAULT '{}';
ALTER TABLE orders ADD COLUMN coupon_id INTEGER;
ALTER TABLE stock_ledger ADD COLUMN flash_sale_id INTEGER;

-- A flash sale holds `quantity` units of one SKU (moved from skus.stock to
-- skus.locked when it is created). remaining is what buyers can still
-- claim; claims that expire unpaid give their units back to remaining; when
-- the sale is settled after it ends, remaining goes back to the SKU.
CREATE TABLE flash_sales (
    id              INTEGER PRIMARY KEY,
    shop_id         INTEGER NOT NULL REFERENCES shops(id),
    sku_id          INTEGER NOT NULL REFERENCES skus(id),
    title           TEXT    NOT NULL,
    price           INTEGER NOT NULL CHECK (price >= 0),
    quantity        INTEGER NOT NULL CHECK (quantity > 0),
    remaining       INTEGER NOT NULL CHECK (remaining >= 0),
    per_user_limit  INTEGER NOT NULL CHECK (per_user_limit >= 1),
    pay_minutes     INTEGER NOT NULL CHECK (pay_minutes >= 1),
    starts_at       INTEGER NOT NULL,
    ends_at         INTEGER NOT NULL,
    settled_at      INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    CHECK (remaining <= quantity),
    CHECK (ends_at > starts_at)
);
CREATE INDEX flash_sales_shop ON flash_sales (shop_id, starts_at);
CREATE INDEX flash_sales_unsettled ON flash_sales (ends_at) WHERE settled_at IS NULL;
CREATE INDEX flash_sales_ends ON flash_sales (ends_at);

-- A buyer's claim on units of a flash sale: held until it becomes an order
-- (ordered) or its payment window passes (expired). One live claim per
-- buyer and sale.
CREATE TABLE flash_claims (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    sale_id     INTEGER NOT NULL REFERENCES flash_sales(id),
    member_id   INTEGER NOT NULL REFERENCES members(id),
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    status      TEXT    NOT NULL CHECK (status IN ('held','ordered','expired')),
    order_id    INTEGER REFERENCES orders(id),
    expires_at  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX flash_claims_live ON flash_claims (sale_id, member_id) WHERE status <> 'expired';
CREATE INDEX flash_claims_order ON flash_claims (order_id) WHERE order_id IS NOT NULL;

-- A coupon template: what it takes off, where, when, how many.
-- kind amount: `amount` fen off; percent: the buyer pays rate_bp/10000, at
-- most `cap` fen off (0 = no cap); shipping: free delivery. scope_ids is a
-- JSON array of category or product ids. Validity is a fixed window
-- (valid_from, valid_until) or valid_days after claiming.
CREATE TABLE coupons (
    id              INTEGER PRIMARY KEY,
    shop_id         INTEGER NOT NULL REFERENCES shops(id),
    name            TEXT    NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('amount','percent','shipping')),
    amount          INTEGER NOT NULL DEFAULT 0 CHECK (amount >= 0),
    rate_bp         INTEGER NOT NULL DEFAULT 10000 CHECK (rate_bp BETWEEN 1 AND 10000),
    cap             INTEGER NOT NULL DEFAULT 0 CHECK (cap >= 0),
    threshold       INTEGER NOT NULL DEFAULT 0 CHECK (threshold >= 0),
    scope           TEXT    NOT NULL CHECK (scope IN ('all','categories','products')),
    scope_ids       TEXT    NOT NULL DEFAULT '[]',
    valid_from      INTEGER,
    valid_until     INTEGER,
    valid_days      INTEGER NOT NULL DEFAULT 0,
    total_quantity  INTEGER NOT NULL CHECK (total_quantity >= 0),
    issued          INTEGER NOT NULL DEFAULT 0,
    per_user_limit  INTEGER NOT NULL CHECK (per_user_limit >= 1),
    claimable       BOOLEAN NOT NULL DEFAULT TRUE,
    auto_rule       TEXT    NOT NULL DEFAULT '' CHECK (auto_rule IN ('','new_member','birthday')),
    disabled_at     INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    CHECK (issued <= total_quantity)
);
CREATE INDEX coupons_shop ON coupons (shop_id, id);

-- A coupon in a buyer's wallet. slot numbers a buyer's copies of one
-- coupon (1..per_user_limit), so the per-user limit holds under
-- concurrent claims. A used coupon names its order; cancelling the order
-- gives it back.
CREATE TABLE member_coupons (
    id           INTEGER PRIMARY KEY,
    shop_id      INTEGER NOT NULL REFERENCES shops(id),
    coupon_id    INTEGER NOT NULL REFERENCES coupons(id),
    member_id    INTEGER NOT NULL REFERENCES members(id),
    slot         INTEGER NOT NULL,
    source       TEXT    NOT NULL CHECK (source IN ('claim','grant','rule')),
    status       TEXT    NOT NULL CHECK (status IN ('unused','used')),
    order_id     INTEGER REFERENCES orders(id),
    valid_from   INTEGER NOT NULL,
    valid_until  INTEGER NOT NULL,
    used_at      INTEGER,
    created_at   INTEGER NOT NULL,
    UNIQUE (coupon_id, member_id, slot)
);
CREATE INDEX member_coupons_member ON member_coupons (shop_id, member_id, status, valid_until);
CREATE INDEX member_coupons_order ON member_coupons (order_id);
