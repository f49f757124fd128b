package account

import (
	"context"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/session"
)

// Failures double the wait (backoff), never lock: once the wait has passed
// the right password works from the same address, and from another address
// it works at once.
func TestLoginBackoffNotLockout(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clock := time.Unix(1_800_000_000, 0)
		s := NewService(d, session.NewStore(d))
		s.now = func() time.Time { return clock }
		if _, err := s.CreateOperator(ctx, NewAccount{Username: "admin", Password: "right-pass-1"}); err != nil {
			t.Fatal(err)
		}
		const guesser, owner = "203.0.113.9", "198.51.100.7"
		fail := func() {
			t.Helper()
			if _, err := s.Login(ctx, "admin", "wrong-pass-1", guesser); !errs.Is(err, "invalid_credentials") {
				t.Fatalf("a wrong password: %v", err)
			}
		}
		waitOf := func() time.Duration {
			t.Helper()
			_, err := s.Login(ctx, "admin", "right-pass-1", guesser)
			e := errs.As(err)
			if e.Code != "too_many_login_attempts" {
				t.Fatalf("want a wait, got %v", err)
			}
			return e.RetryAfter
		}
		for range LoginPerAccount {
			fail()
		}
		if w := waitOf(); w != LoginFirstWait {
			t.Fatalf("after %d failures: wait %v, want %v", LoginPerAccount, w, LoginFirstWait)
		}
		if _, err := s.Login(ctx, "admin", "right-pass-1", owner); err != nil {
			t.Fatalf("the right password from another address: %v", err)
		}
		for _, want := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second} {
			clock = clock.Add(waitOf())
			fail()
			if w := waitOf(); w != want {
				t.Fatalf("the next wait: %v, want %v", w, want)
			}
		}
		clock = clock.Add(8 * time.Second)
		if _, err := s.Login(ctx, "admin", "right-pass-1", guesser); err != nil {
			t.Fatalf("the right password after the wait: %v", err)
		}
		if _, err := s.Login(ctx, "admin", "wrong-pass-1", guesser); !errs.Is(err, "invalid_credentials") {
			t.Fatalf("a success starts the account's count over at that address: %v", err)
		}

		// The waits stop growing at LoginMaxWait, and are forgotten an hour later.
		if got := loginBackoff(LoginPerAccount+40, LoginPerAccount); got != LoginMaxWait {
			t.Fatalf("cap: %v", got)
		}
		clock = clock.Add(LoginForget + time.Minute)
		if n, err := s.SweepLoginThrottle(ctx); err != nil || n != 2 {
			t.Fatalf("sweep: %d %v", n, err)
		}
	})
}
