-- The job queue's indexes hold only the jobs a claim looks for (issue 19).
-- jobs_due indexed every job by (state, run_at): each change of state is
-- then a new entry in it, and on PostgreSQL the entries of jobs already
-- taken stay in the 'queued' range until VACUUM, so with a backlog (a
-- group settlement queues 30,000 refunds at once) every claim walked over
-- those of the jobs before it. Partial indexes of the queued jobs in the
-- claim's order and of the running ones by lease get an entry only when a
-- job enters that state. Measured with BenchmarkDrainBacklog (8 workers,
-- a handler that does nothing): PostgreSQL 1,878 → 4,830 jobs/s with a
-- backlog of 30,000 (3,959 → 5,323 with 5,000); SQLite unchanged.
DROP INDEX jobs_due;
CREATE INDEX jobs_queued ON jobs (run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_running ON jobs (locked_until) WHERE state = 'running';
