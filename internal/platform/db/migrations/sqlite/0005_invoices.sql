-- What a product is, which sets its VAT rate (goods 13%; services and
-- digital content 6%), and the invoice a buyer asks for on an order.

ALTER TABLE spus ADD COLUMN kind TEXT NOT NULL DEFAULT 'goods' CHECK (kind IN ('goods','service','digital'));

CREATE TABLE order_invoices (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    order_id    INTEGER NOT NULL UNIQUE REFERENCES orders(id),
    title_type  TEXT    NOT NULL CHECK (title_type IN ('personal','company')),
    title       TEXT    NOT NULL,
    tax_id      TEXT    NOT NULL DEFAULT '',
    email       TEXT    NOT NULL DEFAULT '',
    status      TEXT    NOT NULL DEFAULT 'requested' CHECK (status IN ('requested','issued')),
    invoice_no  TEXT    NOT NULL DEFAULT '',
    issued_by   INTEGER,
    issued_at   INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
