-- Campaigns (issue 15): a message to a segment's members, queued in
-- batches by a job; each member's recipient row is unique per campaign
-- and written in the same transaction as the message and the campaign's
-- cursor, so a crash in the middle sends every remaining message once.
-- Frequency caps count a member's recipient rows across campaigns.

CREATE TABLE campaigns (
    id            INTEGER PRIMARY KEY,
    shop_id       INTEGER  NOT NULL REFERENCES shops(id),
    name          TEXT    NOT NULL,
    segment_id    INTEGER  NOT NULL,
    title         TEXT    NOT NULL,
    body          TEXT    NOT NULL,
    page          TEXT    NOT NULL DEFAULT '',
    state         TEXT    NOT NULL DEFAULT 'draft'
                  CHECK (state IN ('draft', 'scheduled', 'running', 'cancelled', 'done')),
    start_at      INTEGER,
    per_day_cap   INTEGER NOT NULL DEFAULT 1 CHECK (per_day_cap BETWEEN 0 AND 100),
    per_week_cap  INTEGER NOT NULL DEFAULT 3 CHECK (per_week_cap BETWEEN 0 AND 100),
    quiet_from    INTEGER NOT NULL DEFAULT 1320 CHECK (quiet_from BETWEEN 0 AND 1439),
    quiet_to      INTEGER NOT NULL DEFAULT 480 CHECK (quiet_to BETWEEN 0 AND 1439),
    per_minute    INTEGER NOT NULL DEFAULT 60000 CHECK (per_minute BETWEEN 1 AND 1000000),
    cursor_member INTEGER  NOT NULL DEFAULT 0,
    queued        INTEGER  NOT NULL DEFAULT 0,
    skipped_cap   INTEGER  NOT NULL DEFAULT 0,
    skipped_optout INTEGER NOT NULL DEFAULT 0,
    finished_at   INTEGER,
    created_at    INTEGER  NOT NULL,
    updated_at    INTEGER  NOT NULL
);
CREATE INDEX campaigns_due ON campaigns (state, start_at);

CREATE TABLE campaign_recipients (
    campaign_id  INTEGER  NOT NULL REFERENCES campaigns(id),
    member_id    INTEGER  NOT NULL REFERENCES members(id),
    shop_id      INTEGER  NOT NULL REFERENCES shops(id),
    state        TEXT    NOT NULL CHECK (state IN ('queued', 'capped', 'opted_out')),
    created_at   INTEGER  NOT NULL,
    PRIMARY KEY (campaign_id, member_id)
);
CREATE INDEX campaign_recipients_member ON campaign_recipients (shop_id, member_id, created_at) WHERE state = 'queued';
