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

// TestCheckReturnsTheRealWait: the wait Check returns is when the next hit
// passes (a second earlier it would not), in the same window as old hits
// slide out and across a window boundary. Two keys with the same history
// probe either side of the wait.
func TestCheckReturnsTheRealWait(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		l := New(d)
		for _, c := range []struct {
			name  string
			start time.Time // ten hits here, then one refused a second later
		}{
			{"slide", time.Date(2026, 11, 22, 10, 0, 59, 0, time.UTC)},
			{"next-window", time.Date(2026, 11, 22, 10, 0, 10, 0, time.UTC)},
		} {
			now := c.start
			l.now = func() time.Time { return now }
			var wait time.Duration
			for _, key := range []string{c.name + ":early", c.name + ":on-time"} {
				now = c.start
				for range 10 {
					if w, err := l.Check(ctx, key, 10, time.Minute); w != 0 || err != nil {
						t.Fatalf("%s: a hit within the limit waits %v (%v)", key, w, err)
					}
				}
				now = now.Add(time.Second)
				w, err := l.Check(ctx, key, 10, time.Minute)
				if err != nil || w <= 0 || w > 2*time.Minute {
					t.Fatalf("%s: the 11th hit: wait %v (%v)", key, w, err)
				}
				wait = w
			}
			refused := c.start.Add(time.Second)
			now = refused.Add(wait - time.Second)
			if w, _ := l.Check(ctx, c.name+":early", 10, time.Minute); w == 0 {
				t.Errorf("%s: a hit a second before the wait of %v passed", c.name, wait)
			}
			now = refused.Add(wait)
			if w, _ := l.Check(ctx, c.name+":on-time", 10, time.Minute); w != 0 {
				t.Errorf("%s: a hit after the wait of %v must pass, waits %v more", c.name, wait, w)
			}
		}
	})
}
