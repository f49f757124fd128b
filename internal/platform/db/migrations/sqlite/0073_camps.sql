-- Training camps (训练营, issue 13): a cohort that starts on start_day
-- (days since 1970-01-01 in Asia/Shanghai) and runs `days` days; day N opens
-- at 00:00 Asia/Shanghai of start_day + N - 1. price_fen 0 is a free camp;
-- a paid one is joined through an entitlement of kind "camp". enrolled is
-- the seat counter, changed only by compare-and-set against capacity
-- (0 = no limit). makeups is the make-up allowance (补卡) given to each
-- learner at enrolment; version counts staff edits (compare-and-set).
CREATE TABLE camps (
    id INTEGER PRIMARY KEY,
    shop_id    INTEGER NOT NULL REFERENCES shops(id),
    title      TEXT    NOT NULL,
    intro      TEXT    NOT NULL DEFAULT '',
    price_fen  INTEGER NOT NULL DEFAULT 0 CHECK (price_fen >= 0),
    start_day  INTEGER NOT NULL,
    days       INTEGER NOT NULL CHECK (days >= 1),
    capacity   INTEGER NOT NULL DEFAULT 0 CHECK (capacity >= 0),
    enrolled   INTEGER NOT NULL DEFAULT 0 CHECK (enrolled >= 0),
    makeups    INTEGER NOT NULL DEFAULT 0 CHECK (makeups >= 0),
    status     TEXT    NOT NULL CHECK (status IN ('draft', 'open', 'closed')),
    version    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK (capacity = 0 OR enrolled <= capacity)
);
CREATE INDEX camps_shop ON camps (shop_id, id);

-- Each day's task; lesson_id names a content lesson (0: none).
CREATE TABLE camp_tasks (
    shop_id   INTEGER NOT NULL REFERENCES shops(id),
    camp_id   INTEGER NOT NULL REFERENCES camps(id),
    day       INTEGER NOT NULL,
    title     TEXT    NOT NULL,
    body      TEXT    NOT NULL DEFAULT '',
    lesson_id INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (camp_id, day)
);

-- A learner in a camp: via 'free' or 'entitlement'. makeups_left is
-- spent by compare-and-set and never below zero; days_done counts the
-- learner's check-ins not rejected; last_checkin_at 0 = none yet.
CREATE TABLE camp_enrolments (
    id INTEGER PRIMARY KEY,
    shop_id         INTEGER NOT NULL REFERENCES shops(id),
    camp_id         INTEGER NOT NULL REFERENCES camps(id),
    member_id       INTEGER NOT NULL REFERENCES members(id),
    via             TEXT    NOT NULL,
    makeups_left    INTEGER NOT NULL CHECK (makeups_left >= 0),
    days_done       INTEGER NOT NULL DEFAULT 0 CHECK (days_done >= 0),
    last_checkin_at INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX camp_enrolments_member ON camp_enrolments (shop_id, camp_id, member_id);
CREATE INDEX camp_enrolments_behind ON camp_enrolments (shop_id, camp_id, days_done, last_checkin_at, member_id);

-- One check-in per learner per camp day. images is a JSON list of media
-- blob keys. status: published, pending (held by moderation until staff
-- approve), rejected (staff; the learner may check in again for the day).
CREATE TABLE camp_checkins (
    id INTEGER PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    camp_id     INTEGER NOT NULL REFERENCES camps(id),
    member_id   INTEGER NOT NULL REFERENCES members(id),
    day         INTEGER NOT NULL,
    text        TEXT    NOT NULL DEFAULT '',
    images      TEXT    NOT NULL DEFAULT '[]',
    status      TEXT    NOT NULL CHECK (status IN ('published', 'pending', 'rejected')),
    made_up     BOOLEAN NOT NULL DEFAULT FALSE,
    reviewed_by INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX camp_checkins_member_day ON camp_checkins (shop_id, camp_id, member_id, day);
CREATE INDEX camp_checkins_day ON camp_checkins (shop_id, camp_id, day, id);
