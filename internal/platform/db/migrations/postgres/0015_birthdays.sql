-- Buyers' birthdays (month and day, MM-DD, as they give it) for birthday
-- coupons, and the coupons given for each birthday (once a year).
ALTER TABLE members ADD COLUMN birthday TEXT NOT NULL DEFAULT '';
CREATE INDEX members_birthday ON members (birthday) WHERE birthday <> '';

CREATE TABLE birthday_grants (
    shop_id    BIGINT NOT NULL REFERENCES shops(id),
    coupon_id  BIGINT NOT NULL REFERENCES coupons(id),
    member_id  BIGINT NOT NULL REFERENCES members(id),
    year       BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (coupon_id, member_id, year)
);
