-- Withdrawal approvals (issue 11 point 20): above the shop's approval_limit
-- (fen) a withdrawal needs two approvals by two different staff before it
-- can be paid out; at or below it one approval suffices. No row = no limit
-- (one approval, as before: a shop whose owner is its only staff can still
-- pay promoters). first_approved_by holds the first of two approvals while
-- the withdrawal stays 'requested'. Every decision is logged with its staff.
CREATE TABLE withdrawal_policies (
    shop_id         INTEGER PRIMARY KEY REFERENCES shops(id),
    approval_limit  INTEGER NOT NULL CHECK (approval_limit >= 0),
    updated_by      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

ALTER TABLE withdrawals ADD COLUMN first_approved_by INTEGER;

CREATE TABLE withdrawal_decisions (
    id             INTEGER PRIMARY KEY,
    shop_id        INTEGER NOT NULL REFERENCES shops(id),
    withdrawal_id  INTEGER NOT NULL REFERENCES withdrawals(id),
    action         TEXT    NOT NULL CHECK (action IN ('first_approval','approve','reject','pay')),
    staff_id       INTEGER NOT NULL,
    note           TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL
);
CREATE INDEX withdrawal_decisions_withdrawal ON withdrawal_decisions (shop_id, withdrawal_id, id);
