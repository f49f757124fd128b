-- Paid content (issue 13): courses and columns (专栏), their lessons,
-- packages bundling courses, membership plans, and entitlements (who may
-- see what, from when to when, from which source). Times are Unix
-- milliseconds, UTC; money is fen. status is draft|published; a published
-- thing is visible to buyers once publish_at (0: at once) has passed.

-- One row per shop that changed its settings; grace_days keeps access
-- after an entitlement ends (the buyer sees a banner meanwhile).
CREATE TABLE content_settings (
    shop_id    INTEGER PRIMARY KEY REFERENCES shops(id),
    grace_days INTEGER NOT NULL DEFAULT 3 CHECK (grace_days >= 0),
    updated_at INTEGER NOT NULL
);

-- The catalogue's version per shop, bumped by every content edit: each
-- process polls it and rebuilds its in-memory access index of the shop.
CREATE TABLE content_versions (
    shop_id    INTEGER PRIMARY KEY REFERENCES shops(id),
    version    INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
CREATE INDEX content_versions_updated ON content_versions (updated_at);

CREATE TABLE content_courses (
    id INTEGER PRIMARY KEY,
    shop_id    INTEGER NOT NULL REFERENCES shops(id),
    kind       TEXT    NOT NULL CHECK (kind IN ('course', 'column')),
    title      TEXT    NOT NULL,
    subtitle   TEXT    NOT NULL DEFAULT '',
    cover      TEXT    NOT NULL DEFAULT '',
    intro      TEXT    NOT NULL DEFAULT '',
    price_fen  INTEGER NOT NULL DEFAULT 0 CHECK (price_fen >= 0),
    days       INTEGER NOT NULL DEFAULT 0 CHECK (days >= 0),
    for_sale   BOOLEAN NOT NULL DEFAULT FALSE,
    status     TEXT    NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    publish_at INTEGER NOT NULL DEFAULT 0,
    sort       INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX content_courses_shop ON content_courses (shop_id, sort, id);

-- Lessons: article (body: sanitized HTML), audio/video (media_key: a blob
-- key of the shop's uploads, or media_url: an external VOD address), live
-- (live_at, live_url; replay_key or replay_url afterwards).
CREATE TABLE content_lessons (
    id INTEGER PRIMARY KEY,
    shop_id      INTEGER NOT NULL REFERENCES shops(id),
    course_id    INTEGER NOT NULL REFERENCES content_courses(id),
    kind         TEXT    NOT NULL CHECK (kind IN ('article', 'audio', 'video', 'live')),
    title        TEXT    NOT NULL,
    body         TEXT    NOT NULL DEFAULT '',
    media_key    TEXT    NOT NULL DEFAULT '',
    media_url    TEXT    NOT NULL DEFAULT '',
    duration_sec INTEGER NOT NULL DEFAULT 0 CHECK (duration_sec >= 0),
    free         BOOLEAN NOT NULL DEFAULT FALSE,
    preview_sec  INTEGER NOT NULL DEFAULT 0 CHECK (preview_sec >= 0),
    live_at      INTEGER NOT NULL DEFAULT 0,
    live_url     TEXT    NOT NULL DEFAULT '',
    replay_key   TEXT    NOT NULL DEFAULT '',
    replay_url   TEXT    NOT NULL DEFAULT '',
    status       TEXT    NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    publish_at   INTEGER NOT NULL DEFAULT 0,
    sort         INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX content_lessons_course ON content_lessons (shop_id, course_id, sort, id);

CREATE TABLE content_packages (
    id INTEGER PRIMARY KEY,
    shop_id    INTEGER NOT NULL REFERENCES shops(id),
    title      TEXT    NOT NULL,
    intro      TEXT    NOT NULL DEFAULT '',
    cover      TEXT    NOT NULL DEFAULT '',
    price_fen  INTEGER NOT NULL DEFAULT 0 CHECK (price_fen >= 0),
    days       INTEGER NOT NULL DEFAULT 0 CHECK (days >= 0),
    for_sale   BOOLEAN NOT NULL DEFAULT FALSE,
    status     TEXT    NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    publish_at INTEGER NOT NULL DEFAULT 0,
    sort       INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX content_packages_shop ON content_packages (shop_id, sort, id);

CREATE TABLE content_package_courses (
    shop_id    INTEGER NOT NULL REFERENCES shops(id),
    package_id INTEGER NOT NULL REFERENCES content_packages(id),
    course_id  INTEGER NOT NULL REFERENCES content_courses(id),
    PRIMARY KEY (package_id, course_id)
);

-- Membership plans: period month|quarter|year (30/90/365 days) or custom;
-- covers_all or the chosen courses; discount_bp (basis points) off the
-- one-time prices of courses and packages while the plan is held.
CREATE TABLE content_plans (
    id INTEGER PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    name        TEXT    NOT NULL,
    intro       TEXT    NOT NULL DEFAULT '',
    period      TEXT    NOT NULL CHECK (period IN ('month', 'quarter', 'year', 'custom')),
    days        INTEGER NOT NULL CHECK (days > 0),
    price_fen   INTEGER NOT NULL DEFAULT 0 CHECK (price_fen >= 0),
    covers_all  BOOLEAN NOT NULL DEFAULT FALSE,
    discount_bp INTEGER NOT NULL DEFAULT 0 CHECK (discount_bp >= 0 AND discount_bp <= 10000),
    for_sale    BOOLEAN NOT NULL DEFAULT FALSE,
    status      TEXT    NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    publish_at  INTEGER NOT NULL DEFAULT 0,
    sort        INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX content_plans_shop ON content_plans (shop_id, sort, id);

CREATE TABLE content_plan_courses (
    shop_id   INTEGER NOT NULL REFERENCES shops(id),
    plan_id   INTEGER NOT NULL REFERENCES content_plans(id),
    course_id INTEGER NOT NULL REFERENCES content_courses(id),
    PRIMARY KEY (plan_id, course_id)
);

-- Entitlements: never deleted; revoked with a reason. source_ref is unique
-- per shop: the same purchase, gift or staff grant never grants twice.
-- ends_at NULL: no end. target_kind course|package|plan|camp.
CREATE TABLE content_entitlements (
    id INTEGER PRIMARY KEY,
    shop_id       INTEGER NOT NULL REFERENCES shops(id),
    member_id     INTEGER NOT NULL REFERENCES members(id),
    target_kind   TEXT    NOT NULL CHECK (target_kind IN ('course', 'package', 'plan', 'camp')),
    target_id     INTEGER NOT NULL,
    source        TEXT    NOT NULL CHECK (source IN ('purchase', 'membership', 'gift', 'grant', 'trial')),
    source_ref    TEXT    NOT NULL,
    starts_at     INTEGER NOT NULL,
    ends_at       INTEGER,
    revoked_at    INTEGER,
    revoke_reason TEXT    NOT NULL DEFAULT '',
    revoked_by    TEXT    NOT NULL DEFAULT '',
    note          TEXT    NOT NULL DEFAULT '',
    created_by    TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX content_entitlements_ref ON content_entitlements (shop_id, source_ref);
CREATE INDEX content_entitlements_member ON content_entitlements (shop_id, member_id, target_kind, target_id);
CREATE INDEX content_entitlements_target ON content_entitlements (shop_id, target_kind, target_id) WHERE revoked_at IS NULL;
-- The reminders' scan: live memberships by end.
CREATE INDEX content_entitlements_plan_end ON content_entitlements (ends_at) WHERE target_kind = 'plan' AND revoked_at IS NULL;

-- One row per member who ever held anything: every grant and revoke of the
-- member updates it first, so changes of one member are serialised (a row
-- lock on PostgreSQL, the single writer on SQLite) and renewals never
-- overlap or leave a gap.
CREATE TABLE content_holders (
    shop_id    INTEGER NOT NULL REFERENCES shops(id),
    member_id  INTEGER NOT NULL REFERENCES members(id),
    version    INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (shop_id, member_id)
);

-- The log of grants and revokes, written in their transaction; other
-- processes poll it (by created_at) to drop their cached entitlements.
CREATE TABLE content_entitlement_events (
    id INTEGER PRIMARY KEY,
    shop_id        INTEGER NOT NULL REFERENCES shops(id),
    entitlement_id INTEGER NOT NULL REFERENCES content_entitlements(id),
    member_id      INTEGER NOT NULL REFERENCES members(id),
    kind           TEXT    NOT NULL CHECK (kind IN ('grant', 'revoke')),
    actor          TEXT    NOT NULL DEFAULT '',
    reason         TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL
);
CREATE INDEX content_entitlement_events_ent ON content_entitlement_events (shop_id, entitlement_id, id);
CREATE INDEX content_entitlement_events_time ON content_entitlement_events (created_at);

-- Expiry reminders sent: one per entitlement and offset (days before the
-- end: 7, 3, 1; -1 the day after), written with the hook's work.
CREATE TABLE content_reminders (
    entitlement_id INTEGER NOT NULL REFERENCES content_entitlements(id),
    days_left      INTEGER NOT NULL,
    shop_id        INTEGER NOT NULL REFERENCES shops(id),
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (entitlement_id, days_left)
);
