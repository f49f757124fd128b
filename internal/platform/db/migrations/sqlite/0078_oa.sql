-- Official Account (公众号) template messages (issue 15): the shop's
-- linked OA (its secret and push EncodingAESKey sealed), a category
-- template per message kind, and the OA's followers as its subscribe /
-- unsubscribe pushes (confirmed by user/info) report them. Members are
-- matched to followers by unionid.

CREATE TABLE oa_settings (
    shop_id     INTEGER PRIMARY KEY REFERENCES shops(id),
    appid       TEXT    NOT NULL,
    secret      TEXT    NOT NULL,
    push_token  TEXT    NOT NULL DEFAULT '',
    aes_key     TEXT    NOT NULL DEFAULT '',
    updated_at  INTEGER NOT NULL
);

CREATE TABLE oa_templates (
    shop_id      INTEGER NOT NULL REFERENCES shops(id),
    kind         TEXT    NOT NULL,
    template_id  TEXT    NOT NULL,
    fields       TEXT    NOT NULL DEFAULT '{}',
    enabled      INTEGER NOT NULL DEFAULT 1,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (shop_id, kind)
);

CREATE TABLE oa_followers (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    openid      TEXT    NOT NULL,
    unionid     TEXT    NOT NULL DEFAULT '',
    following   INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (shop_id, openid)
);
CREATE INDEX oa_followers_unionid ON oa_followers (shop_id, unionid);
