-- Sliding-window rate limits: the previous window's count, weighted by how
-- much of it still overlaps the last window-length, is added to the current
-- one, so a burst cannot double up across a window boundary.
ALTER TABLE rate_limits ADD COLUMN prev_hits INTEGER NOT NULL DEFAULT 0;
