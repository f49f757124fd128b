-- WeChat message push (消息推送): each shop's push Token and EncodingAESKey
-- (sealed like the other secrets), and what WeChat's shipping management
-- pushes about an order's money: when it expects to settle, when the buyer
-- confirmed receipt and how, when it settled.

ALTER TABLE shops ADD COLUMN push_token TEXT NOT NULL DEFAULT '';
ALTER TABLE shops ADD COLUMN push_aes_key TEXT NOT NULL DEFAULT '';

ALTER TABLE wx_shipping_uploads ADD COLUMN estimated_settlement_at BIGINT;
ALTER TABLE wx_shipping_uploads ADD COLUMN confirm_receive_method BIGINT NOT NULL DEFAULT 0;
ALTER TABLE wx_shipping_uploads ADD COLUMN receipt_confirmed_at BIGINT;
ALTER TABLE wx_shipping_uploads ADD COLUMN settled_at BIGINT;
