-- Messages to buyers (issue 15, first increment): subscription messages
-- through WeChat with an inbox (站内信) as the fallback channel.

-- Which subscription template each message kind uses, per shop, and which
-- order field fills each keyword ({"thing1":"order.title", …}).
CREATE TABLE msg_templates (
    shop_id     BIGINT  NOT NULL REFERENCES shops(id),
    kind        TEXT    NOT NULL,
    template_id TEXT    NOT NULL,
    page        TEXT    NOT NULL DEFAULT '',
    fields      TEXT    NOT NULL,
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at  BIGINT  NOT NULL,
    PRIMARY KEY (shop_id, kind)
);

-- The quota ledger: acceptances a buyer gave a template and not yet used
-- (一次性订阅: one acceptance, one message), with every change logged.
CREATE TABLE msg_acceptances (
    shop_id     BIGINT  NOT NULL REFERENCES shops(id),
    member_id   BIGINT  NOT NULL REFERENCES members(id),
    template_id TEXT    NOT NULL,
    remaining   INTEGER NOT NULL DEFAULT 0 CHECK (remaining >= 0),
    status      TEXT    NOT NULL DEFAULT 'accept',
    updated_at  BIGINT  NOT NULL,
    PRIMARY KEY (shop_id, member_id, template_id)
);
CREATE TABLE msg_acceptance_log (
    id          BIGSERIAL PRIMARY KEY,
    shop_id     BIGINT  NOT NULL REFERENCES shops(id),
    member_id   BIGINT  NOT NULL,
    template_id TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    delta       INTEGER NOT NULL,
    message_id  BIGINT,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX msg_acceptance_log_member ON msg_acceptance_log (shop_id, member_id, id);

-- One row per message a trigger asked for: unique per (kind, ref, member),
-- sent by a job that marks it by compare-and-set. Inbox messages are the
-- rows delivered on the inbox channel.
CREATE TABLE messages (
    id          BIGSERIAL PRIMARY KEY,
    shop_id     BIGINT  NOT NULL REFERENCES shops(id),
    member_id   BIGINT  NOT NULL REFERENCES members(id),
    kind        TEXT    NOT NULL,
    ref_id      BIGINT  NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','sending','sent','dead')),
    channel     TEXT    NOT NULL DEFAULT '',
    template_id TEXT    NOT NULL DEFAULT '',
    attempt_id  TEXT    NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    errcode     INTEGER NOT NULL DEFAULT 0,
    reason      TEXT    NOT NULL DEFAULT '',
    title       TEXT    NOT NULL DEFAULT '',
    body        TEXT    NOT NULL DEFAULT '',
    page        TEXT    NOT NULL DEFAULT '',
    read_at     BIGINT,
    sent_at     BIGINT,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    UNIQUE (shop_id, kind, ref_id, member_id)
);
CREATE INDEX messages_inbox ON messages (shop_id, member_id, channel, id);
CREATE INDEX messages_state ON messages (shop_id, state, id);
CREATE INDEX messages_stuck ON messages (state, updated_at);

-- Every attempt at a channel, with WeChat's answer.
CREATE TABLE message_attempts (
    id          BIGSERIAL PRIMARY KEY,
    shop_id     BIGINT  NOT NULL REFERENCES shops(id),
    message_id  BIGINT  NOT NULL REFERENCES messages(id),
    attempt_id  TEXT    NOT NULL,
    channel     TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    errcode     INTEGER NOT NULL DEFAULT 0,
    error       TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL
);
CREATE INDEX message_attempts_message ON message_attempts (shop_id, message_id, id);
