-- Member levels (会员等级, issue 14): a shop's levels by growth value
-- (成长值), each with its benefits (a member discount on goods without a
-- promotion price, free shipping, a points multiplier, birthday points).
-- Growth is a ledger like points (a key unique per shop), in calendar-year
-- buckets (Asia/Shanghai): a member's level follows the growth of this
-- year and the last. A rise applies at once; a fall (a year drops out, a
-- refund) is announced first and applies after the notice period
-- (pending_rank, pending_at), and is dropped if the growth comes back.

CREATE TABLE member_levels (
    id               INTEGER PRIMARY KEY,
    shop_id          INTEGER NOT NULL REFERENCES shops(id),
    rank             INTEGER NOT NULL CHECK (rank BETWEEN 1 AND 20),
    name             TEXT NOT NULL,
    growth_min       INTEGER NOT NULL CHECK (growth_min >= 0),
    discount_bp      INTEGER NOT NULL DEFAULT 10000 CHECK (discount_bp BETWEEN 1000 AND 10000),
    free_shipping    BOOLEAN NOT NULL DEFAULT FALSE,
    points_bp        INTEGER NOT NULL DEFAULT 10000 CHECK (points_bp BETWEEN 10000 AND 100000),
    birthday_points  INTEGER NOT NULL DEFAULT 0 CHECK (birthday_points >= 0),
    updated_at       INTEGER NOT NULL,
    UNIQUE (shop_id, rank)
);

CREATE TABLE member_growth (
    shop_id       INTEGER NOT NULL REFERENCES shops(id),
    member_id     INTEGER NOT NULL REFERENCES members(id),
    rank          INTEGER NOT NULL DEFAULT 0,
    rank_since    INTEGER NOT NULL,
    pending_rank  INTEGER,
    pending_at    INTEGER,
    reviewed_year INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (shop_id, member_id)
);
CREATE INDEX member_growth_pending ON member_growth (pending_at) WHERE pending_at IS NOT NULL;

CREATE TABLE growth_entries (
    id           INTEGER PRIMARY KEY,
    shop_id      INTEGER NOT NULL REFERENCES shops(id),
    member_id    INTEGER NOT NULL REFERENCES members(id),
    year         INTEGER NOT NULL,
    delta        INTEGER NOT NULL CHECK (delta <> 0),
    reason       TEXT NOT NULL,
    source_type  TEXT NOT NULL DEFAULT '',
    source_id    TEXT NOT NULL DEFAULT '',
    idem_key     TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (shop_id, idem_key)
);
CREATE INDEX growth_entries_member ON growth_entries (shop_id, member_id, year);
CREATE INDEX member_growth_review ON member_growth (reviewed_year);
