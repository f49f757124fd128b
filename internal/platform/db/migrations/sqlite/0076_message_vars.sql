-- Messages that are not about an order (issue 15): a notice queued by
-- another room (a membership ending, a level falling, points expiring)
-- carries its values as JSON, rendered when it is sent.

ALTER TABLE messages ADD COLUMN vars TEXT NOT NULL DEFAULT '';
