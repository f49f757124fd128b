-- SMS (issue 15, second increment): each shop's account at Aliyun or
-- Tencent Cloud (the secret sealed), its sign name and a template per
-- message kind; phone verification codes (only an HMAC of the code is
-- kept; 5 tries each; one send per phone per 60 s, by compare-and-set on
-- sms_phone_slots); and members who unsubscribed from marketing SMS
-- (退订回T).

CREATE TABLE sms_settings (
    shop_id        INTEGER PRIMARY KEY REFERENCES shops(id),
    provider       TEXT    NOT NULL CHECK (provider IN ('aliyun', 'tencent')),
    access_key_id  TEXT    NOT NULL,
    access_secret  TEXT    NOT NULL,
    sdk_app_id     TEXT    NOT NULL DEFAULT '',
    region         TEXT    NOT NULL DEFAULT '',
    sign_name      TEXT    NOT NULL,
    templates      TEXT    NOT NULL DEFAULT '{}',
    updated_at     INTEGER NOT NULL
);

CREATE TABLE sms_phone_slots (
    shop_id       INTEGER NOT NULL REFERENCES shops(id),
    phone         TEXT    NOT NULL,
    next_send_at  INTEGER NOT NULL,
    PRIMARY KEY (shop_id, phone)
);

CREATE TABLE sms_codes (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    member_id   INTEGER NOT NULL REFERENCES members(id),
    phone       TEXT    NOT NULL,
    code_hash   TEXT    NOT NULL,
    tries       INTEGER NOT NULL DEFAULT 0 CHECK (tries BETWEEN 0 AND 5),
    state       TEXT    NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'used', 'dead')),
    expires_at  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX sms_codes_phone ON sms_codes (shop_id, phone, id);

CREATE TABLE sms_optouts (
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    member_id   INTEGER NOT NULL REFERENCES members(id),
    source      TEXT    NOT NULL CHECK (source IN ('buyer', 'reply')),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (shop_id, member_id)
);
