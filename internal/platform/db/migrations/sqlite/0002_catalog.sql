-- Catalog: category tree, SPUs with spec dimensions, SKUs.

CREATE TABLE categories (
    id                INTEGER PRIMARY KEY,
    shop_id           INTEGER NOT NULL REFERENCES shops(id),
    parent_id         INTEGER REFERENCES categories(id),
    name              TEXT    NOT NULL,
    sort              INTEGER NOT NULL DEFAULT 0,
    needs_brand_auth  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX categories_shop ON categories (shop_id, parent_id);

-- specs is a JSON array of dimensions: [{"name":"颜色","values":["红","蓝"]}, …].
-- images is a JSON array of URLs. price_min/price_max mirror the SKUs.
CREATE TABLE spus (
    id           INTEGER PRIMARY KEY,
    shop_id      INTEGER NOT NULL REFERENCES shops(id),
    category_id  INTEGER NOT NULL REFERENCES categories(id),
    title        TEXT    NOT NULL,
    subtitle     TEXT    NOT NULL DEFAULT '',
    description  TEXT    NOT NULL DEFAULT '',
    images       TEXT    NOT NULL DEFAULT '[]',
    specs        TEXT    NOT NULL DEFAULT '[]',
    on_shelf     BOOLEAN NOT NULL DEFAULT FALSE,
    sort         INTEGER NOT NULL DEFAULT 0,
    price_min    INTEGER NOT NULL DEFAULT 0,
    price_max    INTEGER NOT NULL DEFAULT 0,
    deleted_at   INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX spus_shop_category ON spus (shop_id, category_id, id);
CREATE INDEX spus_updated ON spus (updated_at);

-- spec_values is a JSON array with one value per dimension, in order.
CREATE TABLE skus (
    id           INTEGER PRIMARY KEY,
    shop_id      INTEGER NOT NULL REFERENCES shops(id),
    spu_id       INTEGER NOT NULL REFERENCES spus(id),
    spec_values  TEXT    NOT NULL DEFAULT '[]',
    price        INTEGER NOT NULL CHECK (price >= 0),
    stock        INTEGER NOT NULL CHECK (stock >= 0),
    code         TEXT    NOT NULL DEFAULT '',
    deleted_at   INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX skus_spu ON skus (spu_id);
CREATE UNIQUE INDEX skus_shop_code ON skus (shop_id, code) WHERE code <> '' AND deleted_at IS NULL;
