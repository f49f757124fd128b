-- Support tickets between a shop (the client) and whoever runs its mini
-- program (the operator or an agency), with SLA deadlines in working time
-- (internal/support, internal/platform/workcal).
--
-- sla_policies: a shop's working hours (JSON [[from, to], …] in minutes
-- after midnight, Asia/Shanghai), its targets per priority (JSON
-- {"p1": {"response": minutes, "resolution": minutes}, …} in working
-- minutes) and staff's own days (JSON {"2027-01-01": false, …}: worked or
-- not, over the built-in holidays and make-up days).
CREATE TABLE sla_policies (
    shop_id    INTEGER PRIMARY KEY REFERENCES shops(id),
    hours      TEXT    NOT NULL,
    targets    TEXT    NOT NULL,
    days       TEXT    NOT NULL DEFAULT '{}',
    updated_by INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- tickets: response_due_at is fixed when the ticket opens (updates never
-- move it); resolution_due_at moves later by the working time the ticket
-- waited for the client (paused_since while waiting).
CREATE TABLE tickets (
    id                INTEGER PRIMARY KEY,
    shop_id           INTEGER NOT NULL REFERENCES shops(id),
    kind              TEXT    NOT NULL CHECK (kind IN ('bug','change','question','data_recovery')),
    priority          TEXT    NOT NULL CHECK (priority IN ('p1','p2','p3','p4')),
    title             TEXT    NOT NULL,
    body              TEXT    NOT NULL,
    page              TEXT    NOT NULL DEFAULT '',
    screenshots       TEXT    NOT NULL DEFAULT '[]',
    status            TEXT    NOT NULL CHECK (status IN ('open','in_progress','waiting_client','resolved','closed')),
    opened_by         INTEGER NOT NULL,
    opened_at         INTEGER NOT NULL,
    response_due_at   INTEGER NOT NULL,
    responded_at      INTEGER,
    resolution_due_at INTEGER NOT NULL,
    resolved_at       INTEGER,
    paused_since      INTEGER,
    paused_minutes    INTEGER NOT NULL DEFAULT 0 CHECK (paused_minutes >= 0),
    updated_at        INTEGER NOT NULL
);
CREATE INDEX tickets_shop ON tickets (shop_id, id);
CREATE INDEX tickets_shop_opened ON tickets (shop_id, opened_at);

CREATE TABLE ticket_messages (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
    author_id   INTEGER NOT NULL,
    from_agency BOOLEAN NOT NULL,
    body        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, id);
