-- Member tags, saved segments, staff notes on members and channel
-- attribution (issue 14 points 6 and 8, issue 12's members screen).
--
-- source_kind/source_ref record what brought a member (share, promoter,
-- poster, campaign, search, other); set once by the first login and never
-- overwritten. last_login_at is set by every login (segments' "inactive").

ALTER TABLE members ADD COLUMN source_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN source_ref TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN last_login_at BIGINT  NOT NULL DEFAULT 0;
UPDATE members SET last_login_at = updated_at;
CREATE INDEX members_shop_created ON members (shop_id, created_at);
CREATE INDEX members_shop_source ON members (shop_id, source_kind);
CREATE INDEX members_shop_phone ON members (shop_id, phone);

-- Paid orders by member with what they paid and got back: segments sum it
-- without touching the orders' rows.
CREATE INDEX orders_paid_member ON orders (shop_id, member_id, paid_at, paid_amount, refunded_amount) WHERE paid_at IS NOT NULL;
-- The orders that have a line of some products ("bought category Y").
CREATE INDEX order_lines_spu ON order_lines (spu_id, order_id);

CREATE TABLE member_tags (
    id          BIGSERIAL PRIMARY KEY,
    shop_id     BIGINT  NOT NULL REFERENCES shops(id),
    name        TEXT    NOT NULL,
    color       TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    UNIQUE (shop_id, name)
);

CREATE TABLE member_tag_links (
    shop_id     BIGINT  NOT NULL REFERENCES shops(id),
    tag_id      BIGINT  NOT NULL REFERENCES member_tags(id),
    member_id   BIGINT  NOT NULL REFERENCES members(id),
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (tag_id, member_id)
);
CREATE INDEX member_tag_links_member ON member_tag_links (shop_id, member_id);

CREATE TABLE segments (
    id          BIGSERIAL PRIMARY KEY,
    shop_id     BIGINT  NOT NULL REFERENCES shops(id),
    name        TEXT    NOT NULL,
    rule        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    UNIQUE (shop_id, name)
);

CREATE TABLE member_notes (
    id          BIGSERIAL PRIMARY KEY,
    shop_id     BIGINT  NOT NULL REFERENCES shops(id),
    member_id   BIGINT  NOT NULL REFERENCES members(id),
    author_id   BIGINT  NOT NULL,
    author      TEXT    NOT NULL DEFAULT '',
    body        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX member_notes_member ON member_notes (shop_id, member_id, id);
