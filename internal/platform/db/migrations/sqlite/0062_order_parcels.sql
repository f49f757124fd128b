-- The packages an express order was shipped in: one for an order shipped
-- whole, or several (up to 15, WeChat's limit for split deliveries), each
-- with its carrier, tracking number and the order lines (with quantities)
-- it holds. Written in the ship transaction; every unit of every line is in
-- exactly one package.

CREATE TABLE order_parcels (
    id INTEGER PRIMARY KEY,
    shop_id      INTEGER NOT NULL REFERENCES shops(id),
    order_id     INTEGER NOT NULL REFERENCES orders(id),
    carrier      TEXT    NOT NULL,
    tracking_no  TEXT    NOT NULL,
    lines        TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX order_parcels_waybill ON order_parcels (shop_id, order_id, tracking_no);
