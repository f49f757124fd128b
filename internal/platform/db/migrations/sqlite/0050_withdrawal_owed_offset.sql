-- A payout settles what the promoter owes from claw-backs first (issue 11):
-- the part of a paid withdrawal that went to that debt instead of to the
-- promoter.
ALTER TABLE withdrawals ADD COLUMN owed_offset BIGINT NOT NULL DEFAULT 0;
