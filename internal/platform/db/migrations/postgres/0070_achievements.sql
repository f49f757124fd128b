-- Achievements (issue 14 points 4 and 5): new-member tasks, badges and the
-- member's record ("my record").

-- Staff's settings of the new-member tasks; a task without a row is off
-- (staff see its suggested points).
CREATE TABLE achievement_tasks (
    shop_id    BIGINT  NOT NULL REFERENCES shops(id),
    task       TEXT    NOT NULL,
    enabled    BOOLEAN NOT NULL,
    points     BIGINT  NOT NULL CHECK (points >= 0),
    updated_at BIGINT  NOT NULL,
    PRIMARY KEY (shop_id, task)
);

-- A task a member completed within the first week: one row, ever (the
-- points key task:<member>:<task> makes the reward once as well).
CREATE TABLE member_tasks (
    shop_id      BIGINT NOT NULL REFERENCES shops(id),
    member_id    BIGINT NOT NULL REFERENCES members(id),
    task         TEXT   NOT NULL,
    points       BIGINT NOT NULL DEFAULT 0,
    completed_at BIGINT NOT NULL,
    PRIMARY KEY (shop_id, member_id, task)
);

-- Badges staff define: a rule kind with a threshold, optional points.
CREATE TABLE badges (
    id BIGSERIAL PRIMARY KEY,
    shop_id     BIGINT  NOT NULL REFERENCES shops(id),
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    kind        TEXT    NOT NULL,
    threshold   BIGINT  NOT NULL CHECK (threshold > 0),
    points      BIGINT  NOT NULL DEFAULT 0 CHECK (points >= 0),
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
CREATE INDEX badges_shop_kind ON badges (shop_id, kind, threshold);

-- A badge a member holds: awarded once.
CREATE TABLE member_badges (
    shop_id    BIGINT NOT NULL REFERENCES shops(id),
    member_id  BIGINT NOT NULL REFERENCES members(id),
    badge_id   BIGINT NOT NULL REFERENCES badges(id),
    awarded_at BIGINT NOT NULL,
    PRIMARY KEY (shop_id, member_id, badge_id)
);
CREATE INDEX member_badges_badge ON member_badges (badge_id);

-- "My record", kept incrementally in the events' transactions: the read is
-- this one row. last_checkin_day is the check-in summary's last day (days
-- since 1970-01-01 in Asia/Shanghai), streak the run ending at it.
CREATE TABLE member_records (
    shop_id          BIGINT NOT NULL REFERENCES shops(id),
    member_id        BIGINT NOT NULL REFERENCES members(id),
    days_active      BIGINT NOT NULL DEFAULT 0,
    streak           BIGINT NOT NULL DEFAULT 0,
    longest_streak   BIGINT NOT NULL DEFAULT 0,
    last_checkin_day BIGINT NOT NULL DEFAULT 0,
    orders_received  BIGINT NOT NULL DEFAULT 0,
    spent            BIGINT NOT NULL DEFAULT 0,
    money_saved      BIGINT NOT NULL DEFAULT 0,
    badges           BIGINT NOT NULL DEFAULT 0,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (shop_id, member_id)
);

-- The days a member was active (checked in or had an order paid), so each
-- counts once in days_active.
CREATE TABLE member_record_days (
    shop_id   BIGINT NOT NULL REFERENCES shops(id),
    member_id BIGINT NOT NULL REFERENCES members(id),
    day       BIGINT NOT NULL,
    PRIMARY KEY (shop_id, member_id, day)
);

-- Order events already counted (event: paid, received), so a repeated
-- event counts once; amount is what a received order counts in spent now
-- (lowered by refunds that succeed after it).
CREATE TABLE member_record_orders (
    shop_id  BIGINT NOT NULL REFERENCES shops(id),
    order_id BIGINT NOT NULL,
    event    TEXT   NOT NULL,
    amount   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (shop_id, order_id, event)
);
