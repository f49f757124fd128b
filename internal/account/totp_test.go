package account

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/secretbox"
	"github.com/kaidian/kaidian/internal/platform/session"
)

// totpService is a service with TOTP on, an operator account and a clock
// the test sets.
func totpService(t *testing.T, d *db.DB) (*Service, int64, *time.Time) {
	t.Helper()
	box, err := secretbox.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Unix(1_800_000_000, 0)
	s := NewService(d, session.NewStore(d))
	s.UseTOTP(box, true)
	s.now = func() time.Time { return clock }
	a, err := s.CreateOperator(context.Background(), NewAccount{Username: "admin", Password: "right-pass-1"})
	if err != nil {
		t.Fatal(err)
	}
	return s, a.ID, &clock
}

func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The secret is stored sealed; a confirmed enrolment gives 10 recovery
// codes, each usable once; a code's time step is accepted once, the
// neighbouring steps (skew) too, older ones never.
func TestTOTPEnrolmentCodesAndRecovery(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s, id, clock := totpService(t, d)
		en, err := s.Enrol(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var stored string
		if err := d.QueryRow(ctx, `SELECT secret FROM account_totp WHERE account_id = ?`, id).Scan(&stored); err != nil || stored == en.Secret {
			t.Fatalf("the secret is not sealed: %v", err)
		}
		if err := s.SecondFactor(ctx, id, codeAt(t, en.Secret, *clock), ""); !errs.Is(err, "totp_not_enabled") {
			t.Fatalf("a pending enrolment verifying: %v", err)
		}
		codes, err := s.Confirm(ctx, id, codeAt(t, en.Secret, *clock))
		if err != nil || len(codes) != RecoveryCodeCount {
			t.Fatalf("confirm: %v %v", codes, err)
		}
		if _, err := s.Enrol(ctx, id); !errs.Is(err, "totp_already_enabled") {
			t.Fatalf("enrolling twice: %v", err)
		}
		if err := s.SecondFactor(ctx, id, codeAt(t, en.Secret, *clock), ""); !errs.Is(err, "code_reused") {
			t.Fatalf("the confirmation's code again: %v", err)
		}
		*clock = clock.Add(30 * time.Second)
		next := codeAt(t, en.Secret, clock.Add(30*time.Second)) // a phone a step ahead
		if err := s.SecondFactor(ctx, id, next, ""); err != nil {
			t.Fatalf("a code one step ahead: %v", err)
		}
		if err := s.SecondFactor(ctx, id, codeAt(t, en.Secret, *clock), ""); !errs.Is(err, "code_reused") {
			t.Fatalf("a code older than the last accepted: %v", err)
		}
		if err := s.SecondFactor(ctx, id, "", codes[3]); err != nil {
			t.Fatalf("a recovery code: %v", err)
		}
		if err := s.SecondFactor(ctx, id, "", codes[3]); !errs.Is(err, "invalid_code") {
			t.Fatalf("a recovery code twice: %v", err)
		}
		if err := s.Disable(ctx, id, "", codes[4]); err != nil {
			t.Fatal(err)
		}
		if on, err := s.TOTPEnabled(ctx, id); on || err != nil {
			t.Fatalf("after disabling: %v %v", on, err)
		}
	})
}

// Of concurrent wrong guesses, only CodeFreeFailures are checked; the
// rest wait (429), and the same right code sent twice at once is
// accepted once.
func TestTOTPGuessesAreCountedBeforeTheCheck(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s, id, clock := totpService(t, d)
		en, err := s.Enrol(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Confirm(ctx, id, codeAt(t, en.Secret, *clock)); err != nil {
			t.Fatal(err)
		}
		*clock = clock.Add(time.Minute)
		right := codeAt(t, en.Secret, *clock)
		var mu sync.Mutex
		got := map[string]int{}
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.SecondFactor(ctx, id, right, "")
				mu.Lock()
				got[codeOf(err)]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if got["code_reused"] != 1 || got["ok"] != 1 {
			t.Fatalf("one right code twice at once: %v", got)
		}
		*clock = clock.Add(30 * time.Second) // a right code of a new step forgives the reused one
		if err := s.SecondFactor(ctx, id, codeAt(t, en.Secret, *clock), ""); err != nil {
			t.Fatal(err)
		}
		wrong := "000000"
		if wrong == codeAt(t, en.Secret, *clock) {
			wrong = "111111"
		}
		got = map[string]int{}
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.SecondFactor(ctx, id, wrong, "")
				mu.Lock()
				got[codeOf(err)]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if got["invalid_code"] != CodeFreeFailures || got["too_many_code_attempts"] != 10-CodeFreeFailures {
			t.Fatalf("10 concurrent wrong codes: %v", got)
		}
	})
}

func codeOf(err error) string {
	if err == nil {
		return "ok"
	}
	return errs.As(err).Code
}
