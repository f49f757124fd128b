-- Moderation: sensitive-word rules (base list, operator rules, shop rules;
-- scope_key is the shop's id or 0, level 'allow' is the allow-list)
-- with a version per scope that every server polls; content submitted by
-- buyers with its verdict; the review queue's decisions; bans; copyright
-- complaints with a deadline; per-shop settings.

CREATE TABLE moderation_rules (
    id          INTEGER PRIMARY KEY,
    scope       TEXT    NOT NULL CHECK (scope IN ('base','operator','shop')),
    shop_id     INTEGER REFERENCES shops(id),
    scope_key   INTEGER NOT NULL,
    word        TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    level       TEXT    NOT NULL CHECK (level IN ('block','review','allow')),
    forms       TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    CHECK ((scope = 'shop') = (shop_id IS NOT NULL)),
    CHECK (scope_key = COALESCE(shop_id, 0))
);
CREATE UNIQUE INDEX moderation_rules_word ON moderation_rules (scope, scope_key, word);
CREATE INDEX moderation_rules_key ON moderation_rules (scope_key, id);

-- version changes whenever a scope's rules change: scope_key 0 for the base
-- and operator lists, the shop's id for its own rules.
CREATE TABLE moderation_versions (
    scope_key   INTEGER PRIMARY KEY,
    version     INTEGER NOT NULL
);

CREATE TABLE moderation_settings (
    shop_id       INTEGER PRIMARY KEY REFERENCES shops(id),
    wechat_check  INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE moderation_items (
    id             INTEGER PRIMARY KEY,
    shop_id        INTEGER NOT NULL REFERENCES shops(id),
    member_id      INTEGER REFERENCES members(id), -- NULL for staff's product text
    kind           TEXT    NOT NULL CHECK (kind IN ('comment','review','nickname','post','product')),
    target         TEXT    NOT NULL DEFAULT '',
    body           TEXT    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('published','pending','rejected','removed')),
    verdict        TEXT    NOT NULL,
    matches        TEXT    NOT NULL DEFAULT '[]',
    wechat         TEXT    NOT NULL DEFAULT '',
    reject_reason  TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX moderation_items_shop ON moderation_items (shop_id, status, id);
CREATE INDEX moderation_items_target ON moderation_items (shop_id, target, id);

CREATE TABLE moderation_bans (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    member_id   INTEGER NOT NULL REFERENCES members(id),
    until_at    INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX moderation_bans_member ON moderation_bans (shop_id, member_id, until_at);

CREATE TABLE moderation_complaints (
    id           INTEGER PRIMARY KEY,
    shop_id      INTEGER NOT NULL REFERENCES shops(id),
    item_id      INTEGER NOT NULL REFERENCES moderation_items(id),
    reason       TEXT    NOT NULL,
    contact      TEXT    NOT NULL DEFAULT '',
    status       TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open','taken_down','rejected')),
    due_at       INTEGER NOT NULL,
    overdue      INTEGER NOT NULL DEFAULT 0,
    resolution   TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX moderation_complaints_shop ON moderation_complaints (shop_id, status, id);
CREATE INDEX moderation_complaints_due ON moderation_complaints (status, due_at);

-- every staff decision on an item or a complaint, and every ban.
CREATE TABLE moderation_decisions (
    id            INTEGER PRIMARY KEY,
    shop_id       INTEGER NOT NULL REFERENCES shops(id),
    item_id       INTEGER REFERENCES moderation_items(id),
    complaint_id  INTEGER REFERENCES moderation_complaints(id),
    actor         TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    note          TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
);
CREATE INDEX moderation_decisions_shop ON moderation_decisions (shop_id, id);
