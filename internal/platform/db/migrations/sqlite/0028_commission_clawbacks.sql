-- Commission follows refunds: a settled commission whose order is refunded
-- later is clawed back. Each claw-back is a negative ledger row; the
-- promoter's available balance pays it, and what it cannot pay is owed and
-- taken from the next commissions that settle (never lost, never negative).
ALTER TABLE commissions ADD COLUMN clawed_back INTEGER NOT NULL DEFAULT 0 CHECK (clawed_back >= 0);
-- the order's confirmed (succeeded) refunds the commission last accounted for
ALTER TABLE commissions ADD COLUMN refunded_seen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE promoters ADD COLUMN owed INTEGER NOT NULL DEFAULT 0 CHECK (owed >= 0);

CREATE TABLE commission_clawbacks (
    id              INTEGER PRIMARY KEY,
    shop_id         INTEGER NOT NULL REFERENCES shops(id),
    commission_id   INTEGER NOT NULL REFERENCES commissions(id),
    promoter_id     INTEGER NOT NULL REFERENCES promoters(id),
    order_id        INTEGER NOT NULL REFERENCES orders(id),
    amount          INTEGER NOT NULL CHECK (amount < 0),
    from_available  INTEGER NOT NULL CHECK (from_available >= 0),
    owed            INTEGER NOT NULL CHECK (owed >= 0),
    refunded_total  INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    UNIQUE (commission_id, refunded_total)
);
CREATE INDEX commission_clawbacks_promoter ON commission_clawbacks (shop_id, promoter_id, id);
