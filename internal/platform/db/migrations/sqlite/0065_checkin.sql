-- Check-in (签到): one row per member per business day (Asia/Shanghai),
-- day = days since 1970-01-01 in that zone. made_up marks a day filled with
-- a make-up card; rule_version is the reward rules' version that rewarded it
-- (0: the built-in defaults), points what it earned.
CREATE TABLE checkins (
    id INTEGER PRIMARY KEY,
    shop_id      INTEGER NOT NULL REFERENCES shops(id),
    member_id    INTEGER NOT NULL REFERENCES members(id),
    day          INTEGER NOT NULL,
    made_up      BOOLEAN NOT NULL DEFAULT FALSE,
    streak       INTEGER NOT NULL,
    points       INTEGER NOT NULL DEFAULT 0,
    rule_version INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX checkins_member_day ON checkins (shop_id, member_id, day);

-- One summary per member, kept incrementally: streak is the run of
-- consecutive days ending at last_day; cards the make-up cards held. Every
-- change is a compare-and-set on version.
CREATE TABLE checkin_summaries (
    shop_id        INTEGER NOT NULL REFERENCES shops(id),
    member_id      INTEGER NOT NULL REFERENCES members(id),
    streak         INTEGER NOT NULL DEFAULT 0,
    longest_streak INTEGER NOT NULL DEFAULT 0,
    total_days     INTEGER NOT NULL DEFAULT 0,
    last_day       INTEGER NOT NULL DEFAULT 0,
    cards          INTEGER NOT NULL DEFAULT 0 CHECK (cards >= 0),
    version        INTEGER NOT NULL DEFAULT 0,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (shop_id, member_id)
);

-- The make-up cards' ledger: grants (delta > 0, by staff) and uses
-- (delta = -1, day = the day made up, month = the Shanghai month of the use,
-- as YYYYMM, for the monthly allowance). A grant carries the
-- Idempotency-Key it was made under, so a retried request grants once.
CREATE TABLE checkin_card_ledger (
    id INTEGER PRIMARY KEY,
    shop_id    INTEGER NOT NULL REFERENCES shops(id),
    member_id  INTEGER NOT NULL REFERENCES members(id),
    delta      INTEGER NOT NULL,
    balance    INTEGER NOT NULL,
    reason     TEXT    NOT NULL,
    day        INTEGER NOT NULL DEFAULT 0,
    month      INTEGER NOT NULL DEFAULT 0,
    actor_id   INTEGER NOT NULL DEFAULT 0,
    idem_key   TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX checkin_card_ledger_member ON checkin_card_ledger (shop_id, member_id, id);
CREATE UNIQUE INDEX checkin_card_ledger_key ON checkin_card_ledger (shop_id, idem_key) WHERE idem_key <> '';

-- Reward rules, versioned: each save is a new version; old ones are kept.
-- rewards is a JSON list of {day, points, label}.
CREATE TABLE checkin_rule_versions (
    id INTEGER PRIMARY KEY,
    shop_id          INTEGER NOT NULL REFERENCES shops(id),
    version          INTEGER NOT NULL,
    daily_points     INTEGER NOT NULL,
    cyclic           BOOLEAN NOT NULL,
    makeup_days      INTEGER NOT NULL,
    makeup_per_month INTEGER NOT NULL,
    rewards          TEXT    NOT NULL,
    created_by       INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX checkin_rule_versions_shop ON checkin_rule_versions (shop_id, version);
