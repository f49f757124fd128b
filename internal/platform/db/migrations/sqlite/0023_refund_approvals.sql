-- Refund limits and approvals (issue 11 point 20): customer-service staff
-- refund up to the shop's service_limit (fen; no row = 0: every refund of
-- theirs needs approval); above it they file a refund request that a second
-- person with refunds.approve decides, never the requester.
CREATE TABLE refund_policies (
    shop_id        INTEGER PRIMARY KEY REFERENCES shops(id),
    service_limit  INTEGER NOT NULL CHECK (service_limit >= 0),
    updated_by     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE refund_requests (
    id            INTEGER PRIMARY KEY,
    shop_id       INTEGER NOT NULL REFERENCES shops(id),
    order_id      INTEGER NOT NULL REFERENCES orders(id),
    amount        INTEGER NOT NULL CHECK (amount > 0),
    reason        TEXT    NOT NULL DEFAULT '',
    requested_by  INTEGER NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','approved','rejected')),
    decided_by    INTEGER,
    note          TEXT    NOT NULL DEFAULT '',
    refund_id     INTEGER REFERENCES refunds(id),
    created_at    INTEGER NOT NULL,
    decided_at    INTEGER
);
CREATE INDEX refund_requests_shop ON refund_requests (shop_id, status, id);
