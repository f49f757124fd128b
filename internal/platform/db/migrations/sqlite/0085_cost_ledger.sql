-- The yearly cost ledger of a shop (internal/costs): every recurring item
-- it pays for — WeChat certification (¥300 a year), domain, TLS
-- certificate, server, SMS package, map API, content checks, storage,
-- maintenance, licences — with its cost in fen, supplier, the day it is
-- next due (Asia/Shanghai) and who renews it. reminded lists the
-- reminders already sent for that due day (d30, d7, d1).
CREATE TABLE cost_items (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    kind        TEXT    NOT NULL CHECK (kind IN ('certification','domain','tls','server','sms','maps','content_check','storage','maintenance','licence','other')),
    name        TEXT    NOT NULL,
    supplier    TEXT    NOT NULL DEFAULT '',
    cost        INTEGER NOT NULL CHECK (cost >= 0),
    renews      TEXT    NOT NULL CHECK (renews IN ('yearly','monthly','once')),
    due_on      TEXT    NOT NULL,
    responsible TEXT    NOT NULL DEFAULT '',
    notes       TEXT    NOT NULL DEFAULT '',
    reminded    TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX cost_items_shop ON cost_items (shop_id, due_on);
CREATE INDEX cost_items_due ON cost_items (due_on);
