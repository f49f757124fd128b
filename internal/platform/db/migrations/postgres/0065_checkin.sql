-- Check-in (签到): one row per member per business day (Asia/Shanghai),
-- day = days since 1970-01-01 in that zone. made_up marks a day filled with
-- a make-up card; rule_version is the reward rules' version that rewarded it
-- (0: the built-in defaults), points what it earned.
CREATE TABLE checkins (
    id BIGSERIAL PRIMARY KEY,
    shop_id      BIGINT  NOT NULL REFERENCES shops(id),
    member_id    BIGINT  NOT NULL REFERENCES members(id),
    day          BIGINT  NOT NULL,
    made_up      BOOLEAN NOT NULL DEFAULT FALSE,
    streak       BIGINT  NOT NULL,
    points       BIGINT  NOT NULL DEFAULT 0,
    rule_version BIGINT  NOT NULL DEFAULT 0,
    created_at   BIGINT  NOT NULL
);
CREATE UNIQUE INDEX checkins_member_day ON checkins (shop_id, member_id, day);

-- One summary per member, kept incrementally: streak is the run of
-- consecutive days ending at last_day; cards the make-up cards held. Every
-- change is a compare-and-set on version.
CREATE TABLE checkin_summaries (
    shop_id        BIGINT  NOT NULL REFERENCES shops(id),
    member_id      BIGINT  NOT NULL REFERENCES members(id),
    streak         BIGINT  NOT NULL DEFAULT 0,
    longest_streak BIGINT  NOT NULL DEFAULT 0,
    total_days     BIGINT  NOT NULL DEFAULT 0,
    last_day       BIGINT  NOT NULL DEFAULT 0,
    cards          BIGINT  NOT NULL DEFAULT 0 CHECK (cards >= 0),
    version        BIGINT  NOT NULL DEFAULT 0,
    updated_at     BIGINT  NOT NULL,
    PRIMARY KEY (shop_id, member_id)
);

-- The make-up cards' ledger: grants (delta > 0, by staff) and uses
-- (delta = -1, day = the day made up, month = the Shanghai month of the use,
-- as YYYYMM, for the monthly allowance). A grant carries the
-- Idempotency-Key it was made under, so a retried request grants once.
CREATE TABLE checkin_card_ledger (
    id BIGSERIAL PRIMARY KEY,
    shop_id    BIGINT  NOT NULL REFERENCES shops(id),
    member_id  BIGINT  NOT NULL REFERENCES members(id),
    delta      BIGINT  NOT NULL,
    balance    BIGINT  NOT NULL,
    reason     TEXT    NOT NULL,
    day        BIGINT  NOT NULL DEFAULT 0,
    month      BIGINT  NOT NULL DEFAULT 0,
    actor_id   BIGINT  NOT NULL DEFAULT 0,
    idem_key   TEXT    NOT NULL DEFAULT '',
    created_at BIGINT  NOT NULL
);
CREATE INDEX checkin_card_ledger_member ON checkin_card_ledger (shop_id, member_id, id);
CREATE UNIQUE INDEX checkin_card_ledger_key ON checkin_card_ledger (shop_id, idem_key) WHERE idem_key <> '';

-- Reward rules, versioned: each save is a new version; old ones are kept.
-- rewards is a JSON list of {day, points, label}.
CREATE TABLE checkin_rule_versions (
    id BIGSERIAL PRIMARY KEY,
    shop_id          BIGINT  NOT NULL REFERENCES shops(id),
    version          BIGINT  NOT NULL,
    daily_points     BIGINT  NOT NULL,
    cyclic           BOOLEAN NOT NULL,
    makeup_days      BIGINT  NOT NULL,
    makeup_per_month BIGINT  NOT NULL,
    rewards          TEXT    NOT NULL,
    created_by       BIGINT  NOT NULL DEFAULT 0,
    created_at       BIGINT  NOT NULL
);
CREATE UNIQUE INDEX checkin_rule_versions_shop ON checkin_rule_versions (shop_id, version);
