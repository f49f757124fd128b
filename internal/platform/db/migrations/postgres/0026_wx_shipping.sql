-- Shipping info reported to WeChat (发货信息管理, upload_shipping_info): one
-- row per shipped order paid with WeChat Pay, written in the ship
-- transaction together with the job that uploads it. Staff see the state.

CREATE TABLE wx_shipping_uploads (
    shop_id         BIGINT NOT NULL REFERENCES shops(id),
    order_id        BIGINT NOT NULL REFERENCES orders(id),
    logistics_type  BIGINT NOT NULL CHECK (logistics_type BETWEEN 1 AND 4),
    transaction_id  TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','uploaded','failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    errcode         BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    uploaded_at     BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (shop_id, order_id)
);
CREATE INDEX wx_shipping_state ON wx_shipping_uploads (shop_id, state, updated_at);
