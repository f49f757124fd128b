-- Buyers' birthdays (month and day, MM-DD, as they give it) for birthday
-- coupons, and the coupons given for each birthday (once a year).
ALTER TABLE members ADD COLUMN birthday TEXT NOT NULL DEFAULT '';
CREATE INDEX members_birthday ON members (birthday) WHERE birthday <> '';

CREATE TABLE birthday_grants (
    shop_id    INTEGER NOT NULL REFERENCES shops(id),
    coupon_id  INTEGER NOT NULL REFERENCES coupons(id),
    member_id  INTEGER NOT NULL REFERENCES members(id),
    year       INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (coupon_id, member_id, year)
);
