package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// claim takes the next due job: queued and due, or running with an expired
// lock (its process died). It returns false when there is none.
func (q *Queue) claim(ctx context.Context, x db.Querier) (Job, bool, error) {
	now := time.Now().UnixMilli()
	skipLocked := ""
	if q.db.Engine == db.Postgres {
		skipLocked = " FOR UPDATE SKIP LOCKED"
	}
	var j Job
	var shop sql.NullInt64
	var payload string
	// Two index-ordered lookups, not one with OR: with OR the database
	// sorted every due job to find the first, and a backlog of tens of
	// thousands made each claim slower than the job it claimed. A job
	// whose worker died goes first; there are few.
	err := x.QueryRow(ctx, `UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = ?, locked_until = ?
		WHERE id = COALESCE(
			(SELECT id FROM jobs WHERE state = 'running' AND locked_until < ? ORDER BY locked_until LIMIT 1`+skipLocked+`),
			(SELECT id FROM jobs WHERE state = 'queued' AND run_at <= ? ORDER BY run_at, id LIMIT 1`+skipLocked+`))
		RETURNING id, kind, shop_id, payload, attempts`,
		q.worker, now+q.lease.Milliseconds(), now, now).Scan(&j.ID, &j.Kind, &shop, &payload, &j.Attempts)
	if db.IsNoRows(err) {
		return Job{}, false, nil
	}
	if err != nil {
		return Job{}, false, err
	}
	j.ShopID, j.Payload = shop.Int64, []byte(payload)
	return j, true, nil
}

// WorkOne runs the next due job, if any, and reports whether it ran one.
func (q *Queue) WorkOne(ctx context.Context) (bool, error) {
	j, ok, err := q.claim(ctx, q.db)
	if err != nil || !ok {
		return false, err
	}
	return true, q.finish(ctx, j, q.handle(ctx, j))
}

// handle runs j's handler.
func (q *Queue) handle(ctx context.Context, j Job) error {
	q.mu.RLock()
	h := q.handlers[j.Kind]
	q.mu.RUnlock()
	if h == nil {
		return fmt.Errorf("no handler for job kind %q", j.Kind)
	}
	return q.run(ctx, h, j)
}

// WorkUntilIdle runs due jobs one after another until none is left (or ctx
// ends) and returns how many it ran. It is WorkOne in a loop, except that
// a job that succeeded is marked done in the same transaction that claims
// the next one: one commit per job instead of two, which on PostgreSQL
// (a WAL flush per commit) is much of a small job's cost. The first error
// ends the loop; the job it concerned is retried as WorkOne would.
func (q *Queue) WorkUntilIdle(ctx context.Context) (int, error) {
	var done *Job // succeeded, not yet marked done
	ran := 0
	for ctx.Err() == nil {
		j, ok, err := q.finishAndClaim(ctx, done)
		done = nil
		if err != nil || !ok {
			return ran, err
		}
		ran++
		if runErr := q.handle(ctx, j); runErr != nil {
			if err := q.finish(ctx, j, runErr); err != nil {
				return ran, err
			}
			continue
		}
		done = &j
	}
	if done != nil { // ctx ended after its handler succeeded: still record it
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return ran, q.finish(ctx, *done, nil)
	}
	return ran, ctx.Err()
}

// finishAndClaim marks done (if not nil) done and claims the next due job,
// in one transaction. If that transaction fails, done is marked on its own
// so its success is not lost to the claim's error.
func (q *Queue) finishAndClaim(ctx context.Context, done *Job) (j Job, ok bool, err error) {
	if done == nil {
		return q.claim(ctx, q.db)
	}
	err = q.db.InTx(ctx, func(tx *db.Tx) error {
		if err := q.markDone(ctx, tx, *done); err != nil {
			return err
		}
		j, ok, err = q.claim(ctx, tx)
		return err
	})
	if err != nil {
		return Job{}, false, errors.Join(err, q.finish(ctx, *done, nil))
	}
	return j, ok, nil
}

// run calls h while renewing the job's lease, turning a panic into an
// error so one bad job cannot stop the worker.
func (q *Queue) run(ctx context.Context, h Handler, j Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, q.maxRunOf(j.Kind))
	defer cancel()
	defer q.keepLease(ctx, cancel, j)()
	return h(ctx, j)
}

// keepLease renews j's lock every third of the lease until the returned
// stop is called. A short lease renewed while the handler runs, rather than
// one long lock, is what lets another process take the job within seconds
// when this one is killed. If the lease was lost (this process stalled
// past it and another took the job), the handler's context is cancelled:
// the job is someone else's now.
func (q *Queue) keepLease(ctx context.Context, cancel context.CancelFunc, j Job) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(q.lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if held, err := q.renew(ctx, j.ID); err == nil && !held {
				q.log.Warn("job lease lost: another process took the job", "job", j.ID, "kind", j.Kind)
				cancel()
				return
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// renew extends this worker's lock on job id; false when it no longer holds it.
func (q *Queue) renew(ctx context.Context, id int64) (bool, error) {
	res, err := q.db.Exec(ctx, `UPDATE jobs SET locked_until = ? WHERE id = ? AND locked_by = ? AND state = 'running'`,
		time.Now().Add(q.lease).UnixMilli(), id, q.worker)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// RetryLater is returned by a handler whose work is not done yet (a
// payment still pending): the job runs again after After, quietly. It still
// counts as an attempt.
type RetryLater struct{ After time.Duration }

func (r RetryLater) Error() string { return "retry in " + r.After.String() }

// finish records the outcome, if this worker still holds the job.
func (q *Queue) finish(ctx context.Context, j Job, runErr error) error {
	now := time.Now()
	var later RetryLater
	if errors.As(runErr, &later) {
		_, err := q.db.Exec(ctx, `UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
			finished_at = CASE WHEN attempts >= max_attempts THEN CAST(? AS BIGINT) ELSE NULL END,
			run_at = ?, last_error = 'waiting', locked_until = 0 WHERE id = ? AND locked_by = ?`,
			now.UnixMilli(), now.Add(later.After).UnixMilli(), j.ID, q.worker)
		return err
	}
	if runErr == nil {
		return q.markDone(ctx, q.db, j)
	}
	q.log.Warn("job failed", "job", j.ID, "kind", j.Kind, "attempt", j.Attempts, "err", runErr.Error())
	msg := runErr.Error()
	if len(msg) > 2000 {
		msg = msg[:2000]
	}
	_, err := q.db.Exec(ctx, `UPDATE jobs SET
		state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
		finished_at = CASE WHEN attempts >= max_attempts THEN CAST(? AS BIGINT) ELSE NULL END,
		run_at = ?, last_error = ?, locked_until = 0
		WHERE id = ? AND locked_by = ?`, now.UnixMilli(), now.Add(Backoff(j.Attempts)).UnixMilli(), msg, j.ID, q.worker)
	return err
}

// markDone records j's success, if this worker still holds it.
func (q *Queue) markDone(ctx context.Context, x db.Querier, j Job) error {
	_, err := x.Exec(ctx, `UPDATE jobs SET state = 'done', finished_at = ?, last_error = '', locked_until = 0
		WHERE id = ? AND locked_by = ?`, time.Now().UnixMilli(), j.ID, q.worker)
	return err
}

// Backoff is the wait before retry n+1: 1 s, 4 s, 9 s, … capped at 1 hour.
func Backoff(attempt int) time.Duration {
	d := time.Duration(attempt*attempt) * time.Second
	if d > time.Hour || d <= 0 {
		return time.Hour
	}
	return d
}

// Run works jobs until ctx ends, polling every poll when idle, and keeps
// one job of each periodic kind queued: RunWorkers with one worker.
func (q *Queue) Run(ctx context.Context, poll time.Duration) { q.RunWorkers(ctx, poll, 1) }

// RunWorkers runs workers jobs at once until ctx ends, each worker polling
// every poll when idle, and keeps one job of each periodic kind queued.
// Several workers keep one slow job (a WeChat call waiting for its
// timeout) from holding up every other.
func (q *Queue) RunWorkers(ctx context.Context, poll time.Duration, workers int) {
	var wg sync.WaitGroup
	for i := range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q.work(ctx, poll, i == 0)
		}()
	}
	wg.Wait()
}

// work is one worker's loop; the scheduler (one per process) also queues
// the periodic jobs on every tick.
func (q *Queue) work(ctx context.Context, poll time.Duration, scheduler bool) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if scheduler {
			q.schedulePeriodic(ctx)
		}
		if _, err := q.WorkUntilIdle(ctx); err != nil && ctx.Err() == nil {
			q.log.Warn("job queue", "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (q *Queue) schedulePeriodic(ctx context.Context) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	for kind, every := range q.every {
		_, err := Enqueue(ctx, q.db, kind, struct{}{}, Options{UniqueKey: "every:" + kind, RunAt: time.Now().Add(every)})
		if err != nil && ctx.Err() == nil {
			q.log.Warn("schedule periodic job", "kind", kind, "err", err.Error())
		}
	}
}

// Counts returns the number of jobs by kind and state (queued, running,
// failed), for the metrics.
func (q *Queue) Counts(ctx context.Context) (map[[2]string]int, error) {
	rows, err := q.db.Query(ctx, `SELECT kind, state, COUNT(*) FROM jobs WHERE state <> 'done' GROUP BY kind, state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[[2]string]int{}
	for rows.Next() {
		var kind, state string
		var n int
		if err := rows.Scan(&kind, &state, &n); err != nil {
			return nil, err
		}
		out[[2]string{kind, state}] = n
	}
	return out, rows.Err()
}

// Purge deletes jobs that finished before cutoff.
func (q *Queue) Purge(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := q.db.Exec(ctx, `DELETE FROM jobs WHERE state IN ('done','failed') AND finished_at < ?`, cutoff.UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
