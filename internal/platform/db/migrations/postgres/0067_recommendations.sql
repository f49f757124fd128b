-- Recommendations (issue 14 point 7). recs_settings: a shop's knobs (no row =
-- the defaults). recs_models: the model the periodic job last built for a
-- shop, encoded (top-K neighbours per product, popularity lists), so every
-- process loads the same one and a restarted process serves at once.
-- recent_views: buyers' product views, one row per member and product (the
-- newest view wins), capped per member when flushed.

CREATE TABLE recs_settings (
    shop_id             BIGINT PRIMARY KEY REFERENCES shops(id),
    enabled             BOOLEAN NOT NULL DEFAULT TRUE,
    half_life_days      BIGINT NOT NULL,
    top_k               BIGINT NOT NULL,
    exclude_bought_days BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);

CREATE TABLE recs_models (
    shop_id   BIGINT PRIMARY KEY REFERENCES shops(id),
    built_at  BIGINT NOT NULL,
    lines     BIGINT NOT NULL,
    data      BYTEA   NOT NULL
);

CREATE TABLE recent_views (
    shop_id    BIGINT NOT NULL REFERENCES shops(id),
    member_id  BIGINT NOT NULL,
    spu_id     BIGINT NOT NULL,
    viewed_at  BIGINT NOT NULL,
    PRIMARY KEY (shop_id, member_id, spu_id)
);
CREATE INDEX recent_views_member ON recent_views (shop_id, member_id, viewed_at);
