-- Platform: shops, staff accounts, members, sessions, rate limits, tokens.
-- Times are Unix milliseconds (UTC). Money is integer fen.

CREATE TABLE shops (
    id                 INTEGER PRIMARY KEY,
    name               TEXT    NOT NULL,
    appid              TEXT    NOT NULL UNIQUE,
    app_secret         TEXT    NOT NULL DEFAULT '',
    subject_type       TEXT    NOT NULL CHECK (subject_type IN ('personal','individual','enterprise')),
    mch_id             TEXT    NOT NULL DEFAULT '',
    mch_cert_serial    TEXT    NOT NULL DEFAULT '',
    mch_private_key    TEXT    NOT NULL DEFAULT '',
    apiv3_key          TEXT    NOT NULL DEFAULT '',
    platform_cert      TEXT    NOT NULL DEFAULT '',
    pay_public_key_id  TEXT    NOT NULL DEFAULT '',
    pay_public_key     TEXT    NOT NULL DEFAULT '',
    brand_authorized   BOOLEAN NOT NULL DEFAULT FALSE,
    disabled           BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

CREATE TABLE accounts (
    id             INTEGER PRIMARY KEY,
    shop_id        INTEGER REFERENCES shops(id),
    username       TEXT    NOT NULL UNIQUE,
    display_name   TEXT    NOT NULL DEFAULT '',
    password_hash  TEXT    NOT NULL,
    role           TEXT    NOT NULL CHECK (role IN ('operator','owner','operations','service','finance')),
    disabled       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    CHECK ((role = 'operator') = (shop_id IS NULL))
);
CREATE INDEX accounts_shop ON accounts (shop_id);

CREATE TABLE members (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    openid      TEXT    NOT NULL,
    unionid     TEXT    NOT NULL DEFAULT '',
    phone       TEXT    NOT NULL DEFAULT '',
    nickname    TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (shop_id, openid)
);

-- sessions holds both buyer (member) and staff (account) sessions; only the
-- SHA-256 of the token is stored.
CREATE TABLE sessions (
    token_hash  TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('member','staff')),
    subject_id  INTEGER NOT NULL,
    shop_id     INTEGER,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_subject ON sessions (kind, subject_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE rate_limits (
    key           TEXT    PRIMARY KEY,
    window_start  INTEGER NOT NULL,
    hits          INTEGER NOT NULL
);

CREATE TABLE wechat_tokens (
    appid       TEXT    PRIMARY KEY,
    token       TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL
);
