-- WeChat Pay service providers (服务商, issue 12): an operator-level record
-- holding the provider's keys (secrets sealed like shops'), and each shop's
-- pay mode: 'direct' (its own merchant) or 'partner' (a sub-merchant of a
-- provider: it stores only its sub_mchid).
CREATE TABLE pay_providers (
    id                 INTEGER PRIMARY KEY,
    name               TEXT    NOT NULL,
    sp_mch_id          TEXT    NOT NULL UNIQUE,
    sp_appid           TEXT    NOT NULL,
    mch_cert_serial    TEXT    NOT NULL DEFAULT '',
    pay_public_key_id  TEXT    NOT NULL DEFAULT '',
    mch_private_key    TEXT    NOT NULL DEFAULT '',
    apiv3_key          TEXT    NOT NULL DEFAULT '',
    platform_cert      TEXT    NOT NULL DEFAULT '',
    pay_public_key     TEXT    NOT NULL DEFAULT '',
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

ALTER TABLE shops ADD COLUMN pay_mode TEXT NOT NULL DEFAULT 'direct' CHECK (pay_mode IN ('direct','partner'));
ALTER TABLE shops ADD COLUMN pay_provider_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE shops ADD COLUMN sub_mch_id TEXT NOT NULL DEFAULT '';
