package jobs

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// BenchmarkDrainBacklog: a backlog of jobs enqueued at once (a group
// settlement's refunds) drained by 8 workers with a handler that does
// nothing, so what is measured is the queue's own cost: claim and finish,
// as WorkOne does them (two commits per job) and as WorkUntilIdle, the
// server's workers, does (the finish in the next claim's transaction).
func BenchmarkDrainBacklog(b *testing.B) {
	for _, engine := range db.TestEngines() {
		for _, backlog := range []int{5000, 30000} {
			for _, chained := range []bool{false, true} {
				name := fmt.Sprintf("%s/%d/WorkOne", engine, backlog)
				if chained {
					name = fmt.Sprintf("%s/%d/WorkUntilIdle", engine, backlog)
				}
				b.Run(name, func(b *testing.B) {
					for range b.N {
						drain(b, db.TestDSN(b, engine), backlog, chained)
					}
				})
			}
		}
	}
}

func drain(b *testing.B, dsn string, backlog int, chained bool) {
	b.StopTimer()
	ctx := context.Background()
	d, err := db.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	err = d.InTx(ctx, func(tx *db.Tx) error {
		for i := range backlog {
			if _, err := Enqueue(ctx, tx, "noop", nil, Options{ShopID: 1, UniqueKey: fmt.Sprintf("noop:%d", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	q := New(d, quiet())
	q.Handle("noop", func(context.Context, Job) error { return nil })
	b.StartTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if chained {
				if _, err := q.WorkUntilIdle(ctx); err != nil {
					b.Error(err)
				}
				return
			}
			for {
				ran, err := q.WorkOne(ctx)
				if err != nil {
					b.Error(err)
					return
				}
				if !ran {
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(backlog)/time.Since(start).Seconds(), "jobs/s")
}
