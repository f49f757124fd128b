-- Parcel tracking: the waybill of each express shipment, followed at the
-- tracking provider (快递100): subscribed once in the background, then its
-- state and route as last pushed (or queried when pushes stop coming).
-- state is the provider's (0 in transit, 1 picked up, 3 signed, …), -1
-- while there is no news yet. A push or query is stored only when it knows at
-- least as many events (event_count) as what is stored.

CREATE TABLE parcel_traces (
    id INTEGER PRIMARY KEY,
    shop_id        INTEGER NOT NULL REFERENCES shops(id),
    order_id       INTEGER NOT NULL REFERENCES orders(id),
    carrier        TEXT    NOT NULL,
    company        TEXT    NOT NULL,
    tracking_no    TEXT    NOT NULL,
    state          INTEGER NOT NULL DEFAULT -1,
    events         TEXT    NOT NULL DEFAULT '[]',
    event_count    INTEGER NOT NULL DEFAULT 0,
    subscribed_at  INTEGER,
    checked_at     INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE UNIQUE INDEX parcel_traces_order ON parcel_traces (shop_id, order_id, tracking_no);
CREATE INDEX parcel_traces_waybill ON parcel_traces (company, tracking_no);
CREATE INDEX parcel_traces_open ON parcel_traces (state, checked_at);
