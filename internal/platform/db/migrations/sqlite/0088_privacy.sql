-- Privacy by the personal-information law (internal/privacy, issue 18).
--
-- privacy_policies: the versions of the shop's privacy policy and user
-- agreement now in force; a member who accepted an older one is asked again.
CREATE TABLE privacy_policies (
    shop_id      INTEGER NOT NULL REFERENCES shops(id),
    kind         TEXT   NOT NULL CHECK (kind IN ('privacy_policy','user_agreement')),
    version      TEXT   NOT NULL,
    url          TEXT   NOT NULL DEFAULT '',
    published_at INTEGER NOT NULL,
    PRIMARY KEY (shop_id, kind)
);

-- consents: every consent given or withdrawn, never changed (the newest row
-- per member and kind is the current state): which version, when, from
-- where. Marketing is its own kind, apart from the policy.
CREATE TABLE consents (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    member_id   INTEGER NOT NULL REFERENCES members(id),
    kind        TEXT   NOT NULL CHECK (kind IN ('privacy_policy','user_agreement','marketing')),
    version     TEXT   NOT NULL DEFAULT '',
    granted     BOOLEAN NOT NULL,
    addr        TEXT   NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX consents_member ON consents (shop_id, member_id, kind, id);

-- privacy_requests: a member's export of their data or deletion of their
-- account (注销), with the deadline (15 working days, Asia/Shanghai) staff
-- see; a deletion waits while orders, after-sales, refunds or payouts of
-- the member are open (blocked_by says which) and is done when they end.
CREATE TABLE privacy_requests (
    id           INTEGER PRIMARY KEY,
    shop_id      INTEGER NOT NULL REFERENCES shops(id),
    member_id    INTEGER NOT NULL REFERENCES members(id),
    kind         TEXT   NOT NULL CHECK (kind IN ('export','deletion')),
    status       TEXT   NOT NULL CHECK (status IN ('waiting','done')),
    blocked_by   TEXT   NOT NULL DEFAULT '',
    requested_at INTEGER NOT NULL,
    due_at       INTEGER NOT NULL,
    done_at      INTEGER
);
CREATE UNIQUE INDEX privacy_requests_waiting ON privacy_requests (shop_id, member_id, kind) WHERE status = 'waiting';
CREATE INDEX privacy_requests_shop ON privacy_requests (shop_id, id);

-- A deleted member's row stays (orders and ledgers point at it), emptied.
ALTER TABLE members ADD COLUMN deleted_at INTEGER;
