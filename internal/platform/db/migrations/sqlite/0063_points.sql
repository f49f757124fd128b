-- Points (积分, issue 14): a ledger per member, never a bare balance.
-- points_accounts.balance is the running total of the member's entries,
-- changed only by compare-and-set updates that keep it >= 0; every entry
-- has a reason, a source and a key unique per shop (the same purchase
-- never earns twice). An entry that adds points is a lot: remaining is
-- what is left of it and expires_at when that goes (NULL: never); spends
-- take the lots that expire first, and points_lot_uses says which, so a
-- cancelled or refunded order gives back to the same lots.

CREATE TABLE points_settings (
    shop_id          INTEGER PRIMARY KEY REFERENCES shops(id),
    enabled          BOOLEAN NOT NULL DEFAULT FALSE,
    earn_per_yuan    INTEGER NOT NULL DEFAULT 1,
    redeem_per_yuan  INTEGER NOT NULL DEFAULT 100,
    redeem_cap_bp    INTEGER NOT NULL DEFAULT 5000,
    expiry           TEXT NOT NULL DEFAULT 'end_of_next_year' CHECK (expiry IN ('never','end_of_next_year','days')),
    expiry_days      INTEGER NOT NULL DEFAULT 365,
    updated_at       INTEGER NOT NULL
);

CREATE TABLE points_accounts (
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    member_id   INTEGER NOT NULL REFERENCES members(id),
    balance     INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
    earned      INTEGER NOT NULL DEFAULT 0,
    spent       INTEGER NOT NULL DEFAULT 0,
    expired     INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (shop_id, member_id)
);

CREATE TABLE points_entries (
    id           INTEGER PRIMARY KEY,
    shop_id      INTEGER NOT NULL REFERENCES shops(id),
    member_id    INTEGER NOT NULL REFERENCES members(id),
    delta        INTEGER NOT NULL CHECK (delta <> 0),
    kind         TEXT NOT NULL CHECK (kind IN ('earn','spend','return','clawback','expire','adjust','reward')),
    reason       TEXT NOT NULL,
    source_type  TEXT NOT NULL DEFAULT '',
    source_id    TEXT NOT NULL DEFAULT '',
    idem_key     TEXT NOT NULL,
    remaining    INTEGER NOT NULL DEFAULT 0 CHECK (remaining >= 0 AND remaining <= CASE WHEN delta > 0 THEN delta ELSE 0 END),
    expires_at   INTEGER,
    actor_id     INTEGER,
    created_at   INTEGER NOT NULL,
    UNIQUE (shop_id, idem_key)
);
CREATE INDEX points_entries_member ON points_entries (shop_id, member_id, id);
-- The member's live lots in spending order, and the lots due to expire.
CREATE INDEX points_lots ON points_entries (shop_id, member_id, expires_at) WHERE remaining > 0;
CREATE INDEX points_expiring ON points_entries (expires_at) WHERE remaining > 0;

CREATE TABLE points_lot_uses (
    shop_id   INTEGER NOT NULL REFERENCES shops(id),
    spend_id  INTEGER NOT NULL REFERENCES points_entries(id),
    lot_id    INTEGER NOT NULL REFERENCES points_entries(id),
    amount    INTEGER NOT NULL CHECK (amount > 0),
    returned  INTEGER NOT NULL DEFAULT 0 CHECK (returned >= 0 AND returned <= amount),
    PRIMARY KEY (spend_id, lot_id)
);

-- What an order did with points: spent at checkout (and given back on
-- cancel and refund in proportion), earned when it completed (and taken
-- back on a later refund in proportion, as far as the balance allows).
CREATE TABLE order_points (
    order_id        INTEGER PRIMARY KEY REFERENCES orders(id),
    shop_id         INTEGER NOT NULL REFERENCES shops(id),
    member_id       INTEGER NOT NULL REFERENCES members(id),
    used            INTEGER NOT NULL DEFAULT 0,
    discount        INTEGER NOT NULL DEFAULT 0,
    spend_id        INTEGER REFERENCES points_entries(id),
    returned        INTEGER NOT NULL DEFAULT 0 CHECK (returned <= used),
    earned          INTEGER NOT NULL DEFAULT 0,
    clawed_back     INTEGER NOT NULL DEFAULT 0,
    earn_refunded   INTEGER NOT NULL DEFAULT 0,
    updated_at      INTEGER NOT NULL
);

ALTER TABLE orders ADD COLUMN points_used INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN points_discount INTEGER NOT NULL DEFAULT 0;

-- The points mall (积分商城): coupons and gifts bought with points. An
-- item's stock is its own (a gift is not a SKU on sale) and only a
-- compare-and-set takes from it; a redemption spends the points, takes
-- the stock and gives the coupon in one transaction. Gifts are shipped by
-- staff to the address the buyer chose; a cancelled gift gives the points
-- and the stock back.
CREATE TABLE points_mall_items (
    id                INTEGER PRIMARY KEY,
    shop_id           INTEGER NOT NULL REFERENCES shops(id),
    kind              TEXT NOT NULL CHECK (kind IN ('coupon','gift')),
    title             TEXT NOT NULL,
    image             TEXT NOT NULL DEFAULT '',
    points            INTEGER NOT NULL CHECK (points > 0),
    coupon_id         INTEGER REFERENCES coupons(id),
    stock             INTEGER NOT NULL CHECK (stock >= 0),
    redeemed          INTEGER NOT NULL DEFAULT 0,
    per_member_limit  INTEGER NOT NULL DEFAULT 1,
    on_shelf          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    CHECK ((kind = 'coupon') = (coupon_id IS NOT NULL))
);
CREATE INDEX points_mall_items_shop ON points_mall_items (shop_id, id);

CREATE TABLE points_redemptions (
    id                INTEGER PRIMARY KEY,
    shop_id           INTEGER NOT NULL REFERENCES shops(id),
    member_id         INTEGER NOT NULL REFERENCES members(id),
    item_id           INTEGER NOT NULL REFERENCES points_mall_items(id),
    points            INTEGER NOT NULL,
    spend_id          INTEGER NOT NULL REFERENCES points_entries(id),
    member_coupon_id  INTEGER REFERENCES member_coupons(id),
    status            TEXT NOT NULL CHECK (status IN ('redeemed','shipped','cancelled')),
    address           TEXT NOT NULL DEFAULT '',
    carrier           TEXT NOT NULL DEFAULT '',
    tracking_no       TEXT NOT NULL DEFAULT '',
    idem_key          TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    UNIQUE (shop_id, member_id, idem_key)
);
CREATE INDEX points_redemptions_member ON points_redemptions (shop_id, member_id, item_id);
CREATE INDEX points_redemptions_shop ON points_redemptions (shop_id, id);
