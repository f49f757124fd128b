-- WeChat Pay platform certificates downloaded per shop (GET
-- /v3/certificates), shared by every server process, and when each shop
-- last tried a download on demand (an unknown serial), which limits those
-- downloads to one a minute per shop across the cluster. Certificates are
-- public: stored in clear.

CREATE TABLE wechatpay_platform_certs (
    shop_id       BIGINT NOT NULL REFERENCES shops(id),
    serial        TEXT    NOT NULL,
    cert_pem      TEXT    NOT NULL,
    effective_at  BIGINT NOT NULL,
    expire_at     BIGINT NOT NULL,
    fetched_at    BIGINT NOT NULL,
    PRIMARY KEY (shop_id, serial)
);

CREATE TABLE wechatpay_cert_refreshes (
    shop_id       BIGINT PRIMARY KEY REFERENCES shops(id),
    tried_at      BIGINT NOT NULL DEFAULT 0,
    refreshed_at  BIGINT NOT NULL DEFAULT 0,
    last_error    TEXT    NOT NULL DEFAULT ''
);
