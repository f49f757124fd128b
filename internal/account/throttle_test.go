package account

import (
	"context"
	"fmt"
	"sync"
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
		if n, err := s.SweepLoginThrottle(ctx); err != nil || n != 4 { // the guesser at its address, the two addresses, the account
			t.Fatalf("sweep: %d %v", n, err)
		}
	})
}

// Guesses sent all at once cannot share the free attempts' slots: each
// attempt is counted before its password is checked, so of 60 concurrent
// wrong passwords from one address at most the free ones are checked, the
// rest wait; the right password works once the wait is over.
func TestConcurrentGuessesAreThrottled(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clock := time.Unix(1_800_000_000, 0)
		s := NewService(d, session.NewStore(d))
		s.now = func() time.Time { return clock }
		if _, err := s.CreateOperator(ctx, NewAccount{Username: "admin", Password: "right-pass-1"}); err != nil {
			t.Fatal(err)
		}
		const n = 60
		errsOf := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errsOf[i] = s.Login(ctx, "admin", "wrong-pass-1", "203.0.113.9")
			}()
		}
		wg.Wait()
		wrong, waited := 0, time.Duration(0)
		for _, err := range errsOf {
			switch e := errs.As(err); {
			case e != nil && e.Code == "invalid_credentials":
				wrong++
			case e != nil && e.Code == "too_many_login_attempts" && e.RetryAfter > 0:
				waited = max(waited, e.RetryAfter)
			default:
				t.Fatalf("a concurrent guess: %v", err)
			}
		}
		if wrong > LoginPerAccount {
			t.Fatalf("%d of %d concurrent guesses were checked, want at most %d", wrong, n, LoginPerAccount)
		}
		if _, err := s.Login(ctx, "admin", "right-pass-1", "203.0.113.9"); !errs.Is(err, "too_many_login_attempts") {
			t.Fatalf("the right password before the wait: %v", err)
		}
		clock = clock.Add(waited)
		if _, err := s.Login(ctx, "admin", "right-pass-1", "203.0.113.9"); err != nil {
			t.Fatalf("the right password after the wait (%v): %v", waited, err)
		}
	})
}

// A guesser who spreads one account's guesses over many addresses (each
// within its free attempts there) is slowed down too, by the account-wide
// count; that wait stays short (LoginAccountMaxWait), so the owner still
// gets in after it, and a right password gives its attempt back.
func TestAccountWideSlowdownAcrossAddresses(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clock := time.Unix(1_800_000_000, 0)
		s := NewService(d, session.NewStore(d))
		s.now = func() time.Time { return clock }
		if _, err := s.CreateOperator(ctx, NewAccount{Username: "admin", Password: "right-pass-1"}); err != nil {
			t.Fatal(err)
		}
		addr := func(i int) string { return fmt.Sprintf("203.0.113.%d", i) }
		for i := range LoginPerAccountAll {
			if _, err := s.Login(ctx, "admin", "wrong-pass-1", addr(i)); !errs.Is(err, "invalid_credentials") {
				t.Fatalf("guess %d: %v", i+1, err)
			}
		}
		_, err := s.Login(ctx, "admin", "wrong-pass-1", addr(200))
		if e := errs.As(err); e == nil || e.Code != "too_many_login_attempts" || e.RetryAfter != LoginFirstWait {
			t.Fatalf("a guess from a new address after %d across addresses: %v, want a wait of %v", LoginPerAccountAll, err, LoginFirstWait)
		}
		// Keep guessing as fast as allowed: the wait doubles up to its cap, never more.
		var last time.Duration
		for i := range 12 {
			_, err := s.Login(ctx, "admin", "wrong-pass-1", addr(100+i))
			e := errs.As(err)
			if e == nil || e.Code != "too_many_login_attempts" {
				t.Fatalf("a guess before the wait: %v", err)
			}
			if e.RetryAfter > LoginAccountMaxWait {
				t.Fatalf("the account-wide wait %v passed its cap %v", e.RetryAfter, LoginAccountMaxWait)
			}
			last = e.RetryAfter
			clock = clock.Add(e.RetryAfter)
			if _, err := s.Login(ctx, "admin", "wrong-pass-1", addr(100+i)); !errs.Is(err, "invalid_credentials") {
				t.Fatalf("a guess after the wait: %v", err)
			}
		}
		if last != LoginAccountMaxWait {
			t.Fatalf("the wait after many guesses: %v, want the cap %v", last, LoginAccountMaxWait)
		}
		// The owner, from an address never seen, waits the same and then gets in.
		_, err = s.Login(ctx, "admin", "right-pass-1", "198.51.100.7")
		e := errs.As(err)
		if e == nil || e.Code != "too_many_login_attempts" {
			t.Fatalf("the owner during the account-wide wait: %v", err)
		}
		clock = clock.Add(e.RetryAfter)
		if _, err := s.Login(ctx, "admin", "right-pass-1", "198.51.100.7"); err != nil {
			t.Fatalf("the owner after the wait: %v", err)
		}
		var failures int
		if err := d.QueryRow(ctx, `SELECT failures FROM login_throttle WHERE key = 'user:admin'`).Scan(&failures); err != nil {
			t.Fatal(err)
		}
		if want := LoginPerAccountAll + 12; failures != want {
			t.Fatalf("account-wide count after the owner's login: %d, want %d (the right password's attempt given back)", failures, want)
		}
	})
}
