package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
)

func TestAllowCountsAcrossGoroutinesAndWindows(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		l := New(d)
		now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
		l.now = func() time.Time { return now }
		var allowed atomic.Int32
		var wg sync.WaitGroup
		for range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := l.Allow(ctx, "login:a", 10, time.Minute)
				if err != nil {
					t.Error(err)
				}
				if ok {
					allowed.Add(1)
				}
			}()
		}
		wg.Wait()
		if allowed.Load() != 10 {
			t.Fatalf("allowed %d of 30 hits, want 10", allowed.Load())
		}
		if ok, _ := l.Allow(ctx, "login:b", 10, time.Minute); !ok {
			t.Fatal("another key must have its own count")
		}
		now = now.Add(2 * time.Minute)
		if ok, _ := l.Allow(ctx, "login:a", 10, time.Minute); !ok {
			t.Fatal("hits over a window ago must not count")
		}
		if err := l.Reset(ctx, "login:b"); err != nil {
			t.Fatal(err)
		}
		n, err := l.Sweep(ctx, now)
		if err != nil || n != 0 {
			t.Fatalf("sweep removed %d (err %v); the current window must stay", n, err)
		}
	})
}

// TestNoDoubleBurstAcrossAWindowBoundary: ten hits just before a boundary
// still count just after it.
func TestNoDoubleBurstAcrossAWindowBoundary(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		l := New(d)
		now := time.Date(2026, 11, 22, 16, 59, 59, 0, time.UTC) // one second before a 15-minute boundary
		l.now = func() time.Time { return now }
		for i := 0; i < 10; i++ {
			if ok, err := l.Allow(ctx, "k", 10, 15*time.Minute); !ok || err != nil {
				t.Fatalf("hit %d: %v %v", i+1, ok, err)
			}
		}
		now = now.Add(2 * time.Second)
		if ok, _ := l.Allow(ctx, "k", 10, 15*time.Minute); ok {
			t.Fatal("a new window forgot the hits of two seconds ago")
		}
		now = now.Add(15 * time.Minute)
		if ok, _ := l.Allow(ctx, "k", 10, 15*time.Minute); !ok {
			t.Fatal("hits from over a window ago still count")
		}
	})
}
