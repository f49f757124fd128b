-- Time-limited discounts (限时折扣): a SKU sells at `price` between
-- starts_at and ends_at; checkout applies the lowest running one.
CREATE TABLE timed_discounts (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    sku_id      INTEGER NOT NULL REFERENCES skus(id),
    title       TEXT    NOT NULL,
    price       INTEGER NOT NULL CHECK (price >= 0),
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX timed_discounts_sku ON timed_discounts (shop_id, sku_id, ends_at);
CREATE INDEX timed_discounts_shop ON timed_discounts (shop_id, ends_at);
