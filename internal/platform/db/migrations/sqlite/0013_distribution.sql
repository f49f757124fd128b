-- Distribution and referral (分销): promoters, share-link bindings,
-- commissions frozen until the after-sales window closes, withdrawals.

-- One row per shop that runs distribution. Rates are basis points of the
-- goods paid (after discounts, without shipping): 1000 = 10%.
CREATE TABLE distribution_settings (
    shop_id              INTEGER PRIMARY KEY REFERENCES shops(id),
    enabled              BOOLEAN NOT NULL DEFAULT FALSE,
    binding_days         INTEGER NOT NULL DEFAULT 30,
    level1_rate_bp       INTEGER NOT NULL DEFAULT 0 CHECK (level1_rate_bp BETWEEN 0 AND 5000),
    level2_rate_bp       INTEGER NOT NULL DEFAULT 0 CHECK (level2_rate_bp BETWEEN 0 AND 5000),
    settle_days          INTEGER NOT NULL DEFAULT 7,
    referral_coupon_id   INTEGER REFERENCES coupons(id),
    updated_at           INTEGER NOT NULL
);

-- A fixed level-one commission per unit of a product, instead of the rate.
CREATE TABLE product_commissions (
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    spu_id      INTEGER NOT NULL REFERENCES spus(id),
    per_unit    INTEGER NOT NULL CHECK (per_unit >= 0),
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (shop_id, spu_id)
);

-- Balances in fen: frozen (commissions waiting for the after-sales
-- window), available (may be withdrawn), withdrawing (asked for), paid out.
CREATE TABLE promoters (
    id           INTEGER PRIMARY KEY,
    shop_id      INTEGER NOT NULL REFERENCES shops(id),
    member_id    INTEGER NOT NULL REFERENCES members(id),
    parent_id    INTEGER REFERENCES promoters(id),
    frozen       INTEGER NOT NULL DEFAULT 0 CHECK (frozen >= 0),
    available    INTEGER NOT NULL DEFAULT 0 CHECK (available >= 0),
    withdrawing  INTEGER NOT NULL DEFAULT 0 CHECK (withdrawing >= 0),
    paid_out     INTEGER NOT NULL DEFAULT 0 CHECK (paid_out >= 0),
    created_at   INTEGER NOT NULL,
    UNIQUE (shop_id, member_id)
);

-- Who brought a buyer: one live binding per buyer and shop; a new share
-- link rebinds only after expires_at.
CREATE TABLE referral_bindings (
    id           INTEGER PRIMARY KEY,
    shop_id      INTEGER NOT NULL REFERENCES shops(id),
    member_id    INTEGER NOT NULL REFERENCES members(id),
    promoter_id  INTEGER NOT NULL REFERENCES promoters(id),
    bound_at     INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    rewarded     BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (shop_id, member_id)
);

-- A commission on an order: frozen when the order is paid, settled into
-- the promoter's available balance once the order has been completed for
-- settle_days (recomputed on what was not refunded), or reversed.
CREATE TABLE commissions (
    id           INTEGER PRIMARY KEY,
    shop_id      INTEGER NOT NULL REFERENCES shops(id),
    order_id     INTEGER NOT NULL REFERENCES orders(id),
    promoter_id  INTEGER NOT NULL REFERENCES promoters(id),
    level        INTEGER NOT NULL CHECK (level IN (1, 2)),
    rate_bp      INTEGER NOT NULL,
    fixed        INTEGER NOT NULL DEFAULT 0,
    base_amount  INTEGER NOT NULL,
    amount       INTEGER NOT NULL CHECK (amount >= 0),
    status       TEXT    NOT NULL CHECK (status IN ('frozen','settled','reversed')),
    settled_at   INTEGER,
    created_at   INTEGER NOT NULL,
    UNIQUE (order_id, level)
);
CREATE INDEX commissions_promoter ON commissions (shop_id, promoter_id, id);
CREATE INDEX commissions_frozen ON commissions (order_id) WHERE status = 'frozen';

CREATE TABLE withdrawals (
    id           INTEGER PRIMARY KEY,
    shop_id      INTEGER NOT NULL REFERENCES shops(id),
    promoter_id  INTEGER NOT NULL REFERENCES promoters(id),
    amount       INTEGER NOT NULL CHECK (amount > 0),
    status       TEXT    NOT NULL CHECK (status IN ('requested','approved','rejected','paid')),
    note         TEXT    NOT NULL DEFAULT '',
    reference    TEXT    NOT NULL DEFAULT '',
    decided_by   TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX withdrawals_shop ON withdrawals (shop_id, status, id);
