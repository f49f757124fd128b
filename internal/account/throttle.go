package account

import (
	"context"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Login throttling slows guessing down without locking anyone out: failures
// are counted per account at one client address and per client address.
// Past the free failures, each further one doubles the wait before the next
// try from there (1 s, 2 s, 4 s … at most LoginMaxWait). The right password
// from another address is never held up by someone else's guesses, and no
// amount of failures locks an account.
const (
	LoginPerAccount = 5  // free failures of one account from one address
	LoginPerAddress = 30 // free failures from one address, any accounts
	LoginFirstWait  = time.Second
	LoginMaxWait    = 15 * time.Minute
	LoginForget     = time.Hour // failures older than this start the count over
)

type throttleKey struct {
	key  string
	free int
}

func loginKeys(username, addr string) []throttleKey {
	return []throttleKey{{"acct:" + strings.ToLower(username) + "@" + addr, LoginPerAccount}, {"addr:" + addr, LoginPerAddress}}
}

// loginBackoff is the wait after failures, with free failures that cost none.
func loginBackoff(failures, free int) time.Duration {
	if failures < free {
		return 0
	}
	return min(LoginFirstWait<<min(failures-free, 20), LoginMaxWait)
}

// loginWait is how long a login of username from addr must still wait, or
// a RateLimited error (logged) when it must.
func (s *Service) loginWait(ctx context.Context, username, addr string) error {
	now := s.now().UnixMilli()
	var wait int64
	for _, k := range loginKeys(username, addr) {
		var next int64
		err := s.db.QueryRow(ctx, `SELECT next_at FROM login_throttle WHERE key = ?`, k.key).Scan(&next)
		if db.IsNoRows(err) {
			continue
		}
		if err != nil {
			return errs.Wrap("login throttle", err)
		}
		wait = max(wait, next-now)
	}
	if wait <= 0 {
		return nil
	}
	d := time.Duration(wait) * time.Millisecond
	httpx.Logger(ctx).Warn("login throttled", "username", username, "addr", addr, "retry_after_ms", wait)
	return &errs.Error{Kind: errs.RateLimited, Code: "too_many_login_attempts",
		Message: "too many failed logins from this address; try again after Retry-After seconds", RetryAfter: d}
}

// loginFailed counts a failure on every key and sets the next wait.
func (s *Service) loginFailed(ctx context.Context, username, addr string) error {
	now := s.now()
	httpx.Logger(ctx).Info("login failed", "username", username, "addr", addr)
	for _, k := range loginKeys(username, addr) {
		var failures int
		err := s.db.QueryRow(ctx, `INSERT INTO login_throttle (key, failures, next_at, last_at) VALUES (?, 1, 0, ?)
			ON CONFLICT (key) DO UPDATE SET last_at = excluded.last_at,
				failures = CASE WHEN login_throttle.last_at < ? THEN 1 ELSE login_throttle.failures + 1 END
			RETURNING failures`, k.key, now.UnixMilli(), now.Add(-LoginForget).UnixMilli()).Scan(&failures)
		if err != nil {
			return errs.Wrap("count failed login", err)
		}
		if wait := loginBackoff(failures, k.free); wait > 0 {
			next := now.Add(wait).UnixMilli()
			if _, err := s.db.Exec(ctx, `UPDATE login_throttle SET next_at = ? WHERE key = ? AND next_at < ?`, next, k.key, next); err != nil {
				return errs.Wrap("count failed login", err)
			}
		}
	}
	return nil
}

// loginSucceeded forgets the account's failures at addr (not the
// address's: one good account must not clear guesses at others).
func (s *Service) loginSucceeded(ctx context.Context, username, addr string) {
	_, _ = s.db.Exec(ctx, `DELETE FROM login_throttle WHERE key = ?`, loginKeys(username, addr)[0].key)
}

// SweepLoginThrottle deletes the counts of failures older than LoginForget
// and past their wait.
func (s *Service) SweepLoginThrottle(ctx context.Context) (int64, error) {
	now := s.now()
	res, err := s.db.Exec(ctx, `DELETE FROM login_throttle WHERE last_at < ? AND next_at < ?`,
		now.Add(-LoginForget).UnixMilli(), now.UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
