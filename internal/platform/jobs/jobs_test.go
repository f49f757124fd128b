package jobs

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func jobState(t *testing.T, d *db.DB, id int64) (state string, attempts int, lastErr string) {
	t.Helper()
	if err := d.QueryRow(context.Background(), `SELECT state, attempts, last_error FROM jobs WHERE id = ?`, id).Scan(&state, &attempts, &lastErr); err != nil {
		t.Fatal(err)
	}
	return
}

func TestJobRunsOnceAndIsDone(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		q := New(d, quiet())
		var got Job
		q.Handle("greet", func(_ context.Context, j Job) error { got = j; return nil })
		id, err := Enqueue(ctx, d, "greet", map[string]string{"name": "店长"}, Options{ShopID: 7})
		if err != nil || id == 0 {
			t.Fatalf("enqueue: %d %v", id, err)
		}
		if ran, err := q.WorkOne(ctx); !ran || err != nil {
			t.Fatalf("work: %v %v", ran, err)
		}
		if got.ID != id || got.ShopID != 7 || string(got.Payload) != `{"name":"店长"}` || got.Attempts != 1 {
			t.Fatalf("handler saw %+v", got)
		}
		if state, _, _ := jobState(t, d, id); state != "done" {
			t.Fatalf("state %s", state)
		}
		if ran, _ := q.WorkOne(ctx); ran {
			t.Fatal("a done job ran again")
		}
	})
}

func TestFutureJobsWaitAndFailuresRetryThenFail(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		q := New(d, quiet())
		q.Handle("flaky", func(context.Context, Job) error { return errors.New("wechat busy") })
		later, _ := Enqueue(ctx, d, "flaky", nil, Options{RunAt: time.Now().Add(time.Hour)})
		if ran, _ := q.WorkOne(ctx); ran {
			t.Fatal("a job due in an hour ran now")
		}
		id, _ := Enqueue(ctx, d, "flaky", nil, Options{MaxAttempts: 2})
		q.WorkOne(ctx)
		state, attempts, lastErr := jobState(t, d, id)
		if state != "queued" || attempts != 1 || lastErr != "wechat busy" {
			t.Fatalf("after one failure: %s %d %q", state, attempts, lastErr)
		}
		if ran, _ := q.WorkOne(ctx); ran {
			t.Fatal("a failed job was retried before its backoff")
		}
		d.Exec(ctx, `UPDATE jobs SET run_at = 0 WHERE id = ?`, id)
		q.WorkOne(ctx)
		if state, attempts, _ := jobState(t, d, id); state != "failed" || attempts != 2 {
			t.Fatalf("after max attempts: %s %d", state, attempts)
		}
		if state, _, _ := jobState(t, d, later); state != "queued" {
			t.Fatalf("the future job: %s", state)
		}
	})
}

func TestAJobOfADeadWorkerIsTakenAgain(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		dead := New(d, quiet())
		id, _ := Enqueue(ctx, d, "work", nil, Options{})
		if _, ok, err := dead.claim(ctx, d); !ok || err != nil {
			t.Fatalf("claim: %v %v", ok, err)
		}
		alive := New(d, quiet())
		runs := 0
		alive.Handle("work", func(context.Context, Job) error { runs++; return nil })
		if ran, _ := alive.WorkOne(ctx); ran {
			t.Fatal("a job locked by a live worker was taken")
		}
		d.Exec(ctx, `UPDATE jobs SET locked_until = 1 WHERE id = ?`, id) // the lock expires
		if ran, err := alive.WorkOne(ctx); !ran || err != nil || runs != 1 {
			t.Fatalf("the orphaned job: ran %v err %v runs %d", ran, err, runs)
		}
		// The dead worker coming back cannot overwrite the outcome.
		if err := dead.finish(ctx, Job{ID: id}, errors.New("late")); err != nil {
			t.Fatal(err)
		}
		if state, _, _ := jobState(t, d, id); state != "done" {
			t.Fatalf("state %s after a stale worker reported", state)
		}
	})
}

func TestUniqueKeyAndTransactionalEnqueue(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a, _ := Enqueue(ctx, d, "cancel", nil, Options{UniqueKey: "order:1"})
		b, err := Enqueue(ctx, d, "cancel", nil, Options{UniqueKey: "order:1"})
		if a == 0 || b != 0 || err != nil {
			t.Fatalf("unique key: first %d, second %d (%v)", a, b, err)
		}
		boom := errors.New("rolled back")
		err = d.InTx(ctx, func(tx *db.Tx) error {
			if _, err := Enqueue(ctx, tx, "cancel", nil, Options{UniqueKey: "order:2"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		var n int
		d.QueryRow(ctx, `SELECT COUNT(*) FROM jobs WHERE unique_key = 'order:2'`).Scan(&n)
		if n != 0 {
			t.Fatal("a job enqueued in a rolled-back transaction exists")
		}
	})
}

// TestEveryJobRunsExactlyOnceAcrossWorkers runs 200 jobs with four queues
// (four server processes) working at once.
func TestEveryJobRunsExactlyOnceAcrossWorkers(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		const n = 200
		for i := 0; i < n; i++ {
			if _, err := Enqueue(ctx, d, "count", i, Options{}); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		seen := map[int64]int{}
		var total atomic.Int32
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			q := New(d, quiet())
			q.Handle("count", func(_ context.Context, j Job) error {
				mu.Lock()
				seen[j.ID]++
				mu.Unlock()
				total.Add(1)
				return nil
			})
			wg.Add(1)
			go func() { defer wg.Done(); q.Run(ctx, 10*time.Millisecond) }()
		}
		deadline := time.Now().Add(20 * time.Second)
		for total.Load() < n && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		wg.Wait()
		if len(seen) != n {
			t.Fatalf("%d distinct jobs ran, want %d", len(seen), n)
		}
		for id, c := range seen {
			if c != 1 {
				t.Fatalf("job %d ran %d times", id, c)
			}
		}
	})
}

func TestPeriodicJobsAreScheduledOncePerCluster(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		for i := 0; i < 3; i++ { // three processes start
			q := New(d, quiet())
			q.Every("sweep", time.Minute, func(context.Context, Job) error { return nil })
			q.schedulePeriodic(ctx)
		}
		q := New(d, quiet())
		counts, err := q.Counts(ctx)
		if err != nil || counts[[2]string{"sweep", "queued"}] != 1 {
			t.Fatalf("queued sweeps: %v (%v), want 1", counts, err)
		}
	})
}

func TestARunningJobKeepsItsLeaseAndADeadOnesExpires(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		// A lease of a second, renewed every third of it: long enough that
		// a loaded machine (CI runs with -race on both engines) renews in
		// time, short enough to watch several leases pass.
		const lease = time.Second
		running := New(d, quiet())
		running.lease = lease
		other := New(d, quiet())
		other.lease = lease
		otherRuns := 0
		other.Handle("slow", func(context.Context, Job) error { otherRuns++; return nil })

		// A handler that runs for several leases keeps its job: no one else takes it.
		release := make(chan struct{})
		claimed := make(chan struct{})
		running.Handle("slow", func(context.Context, Job) error { close(claimed); <-release; return nil })
		Enqueue(ctx, d, "slow", nil, Options{})
		done := make(chan error, 1)
		go func() { _, err := running.WorkOne(ctx); done <- err }()
		<-claimed // the running worker holds it before the other one looks
		for range 6 {
			time.Sleep(lease / 2)
			if ran, err := other.WorkOne(ctx); ran || err != nil {
				t.Fatalf("a job whose worker is alive and renewing was taken (ran %v, err %v)", ran, err)
			}
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}

		// A worker that claims and dies (no renewals) loses the job after one lease.
		id, _ := Enqueue(ctx, d, "slow", nil, Options{})
		dead := New(d, quiet())
		dead.lease = lease
		if _, ok, err := dead.claim(ctx, d); !ok || err != nil {
			t.Fatalf("claim: %v %v", ok, err)
		}
		time.Sleep(lease + 50*time.Millisecond)
		if ran, err := other.WorkOne(ctx); !ran || err != nil || otherRuns != 1 {
			t.Fatalf("the dead worker's job after its lease: ran %v, err %v, runs %d", ran, err, otherRuns)
		}
		if state, _, _ := jobState(t, d, id); state != "done" {
			t.Fatalf("state %s", state)
		}
	})
}

func TestAHandlerThatLostItsLeaseIsCancelled(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		q := New(d, quiet())
		q.lease = 300 * time.Millisecond
		id, _ := Enqueue(ctx, d, "stolen", nil, Options{})
		cancelled := make(chan struct{})
		q.Handle("stolen", func(ctx context.Context, _ Job) error {
			// Another process takes the job (as if this one had stalled past its lease).
			if _, err := d.Exec(context.Background(), `UPDATE jobs SET locked_by = 'someone-else' WHERE id = ?`, id); err != nil {
				return err
			}
			select {
			case <-ctx.Done():
				close(cancelled)
				return ctx.Err()
			case <-time.After(5 * time.Second):
				return errors.New("not cancelled")
			}
		})
		if _, err := q.WorkOne(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case <-cancelled:
		default:
			t.Fatal("the handler ran on after its job was taken by another worker")
		}
		// The outcome is the new holder's to record, not this worker's.
		if state, _, _ := jobState(t, d, id); state != "running" {
			t.Fatalf("state %s: the worker that lost the job recorded an outcome", state)
		}
	})
}

// WorkUntilIdle runs every due job, marks each success done (the last
// one too, with no next job to claim alongside), retries failures as
// WorkOne does, and leaves jobs that are not due alone.
func TestWorkUntilIdleMarksEveryJobAsWorkOneWould(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		q := New(d, quiet())
		q.Handle("ok", func(context.Context, Job) error { return nil })
		q.Handle("busy", func(context.Context, Job) error { return errors.New("wechat busy") })
		var ids []int64
		for i := range 5 {
			kind := "ok"
			if i == 2 {
				kind = "busy"
			}
			id, err := Enqueue(ctx, d, kind, i, Options{})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		later, _ := Enqueue(ctx, d, "ok", nil, Options{RunAt: time.Now().Add(time.Hour)})
		ran, err := q.WorkUntilIdle(ctx)
		if ran != 5 || err != nil {
			t.Fatalf("ran %d jobs, err %v; want 5", ran, err)
		}
		for i, id := range ids {
			state, attempts, lastErr := jobState(t, d, id)
			want := "done"
			if i == 2 {
				want = "queued"
			}
			if state != want || attempts != 1 || (i == 2) != (lastErr != "") {
				t.Fatalf("job %d: %s, %d attempts, %q; want %s", i, state, attempts, lastErr, want)
			}
		}
		if state, attempts, _ := jobState(t, d, later); state != "queued" || attempts != 0 {
			t.Fatalf("a job due in an hour: %s after %d attempts", state, attempts)
		}
		if ran, err := q.WorkUntilIdle(ctx); ran != 0 || err != nil {
			t.Fatalf("nothing due: ran %d, %v", ran, err)
		}
	})
}

// With several workers a slow job (a WeChat call waiting for its timeout)
// does not hold up the others: here the first job waits until the second
// has run, which one worker could never do.
func TestASlowJobHoldsOnlyItsOwnWorker(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		q := New(d, quiet())
		second := make(chan struct{})
		q.Handle("slow", func(ctx context.Context, _ Job) error {
			select {
			case <-second:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		q.Handle("quick", func(context.Context, Job) error { close(second); return nil })
		slow, _ := Enqueue(ctx, d, "slow", nil, Options{})
		quick, _ := Enqueue(ctx, d, "quick", nil, Options{RunAt: time.Now().Add(50 * time.Millisecond)})
		go q.RunWorkers(ctx, 20*time.Millisecond, 3)
		// The slow job ends only once the quick one has run, so both done
		// means the quick one ran while the slow one held its worker. (The
		// quick job's done is written with its worker's next claim, so it
		// may land after the slow job's.)
		for {
			s1, _, _ := jobState(t, d, slow)
			s2, _, _ := jobState(t, d, quick)
			if s1 == "done" && s2 == "done" {
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("slow %s, quick %s: the slow job's worker held up the quick one", s1, s2)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
