-- Retention (internal/privacy, issue 18): how long a shop keeps raw
-- analytics events (the other periods are fixed), and the last pruning of
-- each kind of data per shop, which staff see.
CREATE TABLE retention_settings (
    shop_id          BIGINT PRIMARY KEY REFERENCES shops(id),
    analytics_days   INTEGER NOT NULL CHECK (analytics_days BETWEEN 30 AND 1095),
    updated_at       BIGINT NOT NULL
);

CREATE TABLE retention_runs (
    shop_id     BIGINT NOT NULL REFERENCES shops(id),
    kind        TEXT   NOT NULL,
    ran_at      BIGINT NOT NULL,
    deleted     BIGINT NOT NULL,
    PRIMARY KEY (shop_id, kind)
);

CREATE INDEX analytics_events_shop_received ON analytics_events (shop_id, received_at);
CREATE INDEX messages_shop_created ON messages (shop_id, created_at);
