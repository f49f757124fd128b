-- Addresses and freight (issue 12): the buyers' address books (regions by
-- GB/T 2260 code, names copied from the region table), the shops' freight
-- templates (rules as JSON: default, region rules, free shipping, regions
-- not delivered to), the template a product ships under (NULL: the shop's
-- flat shipping fee) and a SKU's weight for templates charged by weight.

CREATE TABLE addresses (
    id             INTEGER PRIMARY KEY,
    shop_id        INTEGER NOT NULL REFERENCES shops(id),
    member_id      INTEGER NOT NULL REFERENCES members(id),
    name           TEXT    NOT NULL,
    phone          TEXT    NOT NULL,
    province_code  TEXT    NOT NULL,
    province       TEXT    NOT NULL,
    city_code      TEXT    NOT NULL,
    city           TEXT    NOT NULL,
    county_code    TEXT    NOT NULL DEFAULT '',
    county         TEXT    NOT NULL DEFAULT '',
    detail         TEXT    NOT NULL,
    postal_code    TEXT    NOT NULL DEFAULT '',
    tag            TEXT    NOT NULL DEFAULT '',
    is_default     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX addresses_member ON addresses (shop_id, member_id, id);
-- At most one default per buyer (the service keeps exactly one).
CREATE UNIQUE INDEX addresses_one_default ON addresses (shop_id, member_id) WHERE is_default;

CREATE TABLE freight_templates (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    name        TEXT    NOT NULL,
    basis       TEXT    NOT NULL CHECK (basis IN ('piece','weight')),
    rules       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX freight_templates_shop ON freight_templates (shop_id, id);

ALTER TABLE spus ADD COLUMN freight_template_id INTEGER REFERENCES freight_templates(id);
CREATE INDEX spus_freight_template ON spus (shop_id, freight_template_id) WHERE freight_template_id IS NOT NULL;
ALTER TABLE skus ADD COLUMN weight_grams INTEGER NOT NULL DEFAULT 0 CHECK (weight_grams >= 0);
