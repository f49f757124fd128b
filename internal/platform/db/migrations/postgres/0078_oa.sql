-- Official Account (公众号) template messages (issue 15): the shop's
-- linked OA (its secret and push EncodingAESKey sealed), a category
-- template per message kind, and the OA's followers as its subscribe /
-- unsubscribe pushes (confirmed by user/info) report them. Members are
-- matched to followers by unionid.

CREATE TABLE oa_settings (
    shop_id     BIGINT  PRIMARY KEY REFERENCES shops(id),
    appid       TEXT    NOT NULL,
    secret      TEXT    NOT NULL,
    push_token  TEXT    NOT NULL DEFAULT '',
    aes_key     TEXT    NOT NULL DEFAULT '',
    updated_at  BIGINT  NOT NULL
);

CREATE TABLE oa_templates (
    shop_id      BIGINT  NOT NULL REFERENCES shops(id),
    kind         TEXT    NOT NULL,
    template_id  TEXT    NOT NULL,
    fields       TEXT    NOT NULL DEFAULT '{}',
    enabled      BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at   BIGINT  NOT NULL,
    PRIMARY KEY (shop_id, kind)
);

CREATE TABLE oa_followers (
    id          BIGSERIAL PRIMARY KEY,
    shop_id     BIGINT  NOT NULL REFERENCES shops(id),
    openid      TEXT    NOT NULL,
    unionid     TEXT    NOT NULL DEFAULT '',
    following   BOOLEAN NOT NULL,
    updated_at  BIGINT  NOT NULL,
    UNIQUE (shop_id, openid)
);
CREATE INDEX oa_followers_unionid ON oa_followers (shop_id, unionid);
