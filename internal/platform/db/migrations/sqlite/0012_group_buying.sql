-- Group buying (拼团): a deal offers one SKU at prices by group size;
-- buyers open groups and join them; each member pays the price of the
-- smallest tier when joining, and when the group closes the difference to
-- the tier it reached is refunded (all of it when it failed).

ALTER TABLE orders ADD COLUMN group_id INTEGER;

-- tiers is a JSON array of {"size": n, "price": fen}, sizes ascending and
-- prices descending.
CREATE TABLE group_deals (
    id                INTEGER PRIMARY KEY,
    shop_id           INTEGER NOT NULL REFERENCES shops(id),
    sku_id            INTEGER NOT NULL REFERENCES skus(id),
    title             TEXT    NOT NULL,
    tiers             TEXT    NOT NULL,
    min_size          INTEGER NOT NULL CHECK (min_size >= 2),
    max_size          INTEGER NOT NULL CHECK (max_size >= min_size),
    open_price        INTEGER NOT NULL CHECK (open_price >= 0),
    duration_minutes  INTEGER NOT NULL CHECK (duration_minutes >= 1),
    allow_virtual     BOOLEAN NOT NULL DEFAULT FALSE,
    starts_at         INTEGER NOT NULL,
    ends_at           INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX group_deals_shop ON group_deals (shop_id, id);

-- A group: forming until it is full or its time is up, then succeeded (at
-- tier_size/tier_price, perhaps completed with virtual members) or failed.
CREATE TABLE group_buys (
    id               INTEGER PRIMARY KEY,
    shop_id          INTEGER NOT NULL REFERENCES shops(id),
    deal_id          INTEGER NOT NULL REFERENCES group_deals(id),
    leader_id        INTEGER NOT NULL REFERENCES members(id),
    status           TEXT    NOT NULL CHECK (status IN ('forming','succeeded','failed')),
    paid_members     INTEGER NOT NULL DEFAULT 0 CHECK (paid_members >= 0),
    virtual_members  INTEGER NOT NULL DEFAULT 0,
    tier_size        INTEGER NOT NULL DEFAULT 0,
    tier_price       INTEGER NOT NULL DEFAULT 0,
    expires_at       INTEGER NOT NULL,
    closed_at        INTEGER,
    created_at       INTEGER NOT NULL
);
CREATE INDEX group_buys_deal ON group_buys (shop_id, deal_id, id);
CREATE INDEX group_buys_due ON group_buys (expires_at) WHERE status = 'forming';

-- A member's seat in a group: pending until their order is paid;
-- cancelled with the order. settled marks the refund decision at close
-- (made once: a compare-and-set on settled).
CREATE TABLE group_members (
    id             INTEGER PRIMARY KEY,
    shop_id        INTEGER NOT NULL REFERENCES shops(id),
    group_id       INTEGER NOT NULL REFERENCES group_buys(id),
    member_id      INTEGER NOT NULL REFERENCES members(id),
    order_id       INTEGER NOT NULL REFERENCES orders(id),
    status         TEXT    NOT NULL CHECK (status IN ('pending','paid','cancelled')),
    paid_amount    INTEGER NOT NULL DEFAULT 0,
    refund_amount  INTEGER NOT NULL DEFAULT 0,
    settled        BOOLEAN NOT NULL DEFAULT FALSE,
    joined_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX group_members_seat ON group_members (group_id, member_id) WHERE status <> 'cancelled';
CREATE INDEX group_members_order ON group_members (order_id);
CREATE INDEX group_members_group ON group_members (group_id, status);
