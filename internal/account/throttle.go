package account

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Login throttling slows guessing down without locking anyone out. Every
// attempt is reserved before its password is checked (so concurrent guesses
// cannot all slip through one free slot) and counted per account at one
// client address, per client address and per account from anywhere. Past a
// key's free attempts, each further one doubles the wait before the next try
// (1 s, 2 s, 4 s … at most the key's cap). A right password gives its
// attempt back. The account-wide key slows a guesser who spreads over many
// addresses, but with a short cap: its owner still gets in after a minute.
const (
	LoginPerAccount     = 5  // free failures of one account from one address
	LoginPerAddress     = 30 // free failures from one address, any accounts
	LoginPerAccountAll  = 20 // free failures of one account from all addresses together
	LoginFirstWait      = time.Second
	LoginMaxWait        = 15 * time.Minute // cap of the per-address keys
	LoginAccountMaxWait = time.Minute      // cap of the account-wide key
	LoginForget         = time.Hour        // failures older than this start the count over
)

type throttleKey struct {
	key     string
	free    int
	maxWait time.Duration
}

// loginKeys are the keys an attempt reserves, always in this order (sorted,
// so concurrent transactions on PostgreSQL lock rows in one order).
func loginKeys(username, addr string) []throttleKey {
	user := strings.ToLower(username)
	return []throttleKey{
		{"acct:" + user + "@" + addr, LoginPerAccount, LoginMaxWait},
		{"addr:" + addr, LoginPerAddress, LoginMaxWait},
		{"user:" + user, LoginPerAccountAll, LoginAccountMaxWait},
	}
}

// loginBackoff is the wait after failures, with free failures that cost none.
func loginBackoff(failures, free int) time.Duration {
	return loginBackoffMax(failures, free, LoginMaxWait)
}

func loginBackoffMax(failures, free int, maxWait time.Duration) time.Duration {
	if failures < free {
		return 0
	}
	return min(LoginFirstWait<<min(failures-free, 20), maxWait)
}

var errThrottled = errors.New("login throttled")

// reserveLogin counts an attempt of username from addr on every key before
// its password is checked, or answers a RateLimited error (logged) when any
// key must still wait; then nothing is counted. The reservation is one
// transaction: on PostgreSQL the upsert locks each key's row until commit,
// on SQLite transactions are serialised, so of N concurrent attempts only
// the free ones get through.
func (s *Service) reserveLogin(ctx context.Context, username, addr string) (reservation, error) {
	now := s.now()
	keys := loginKeys(username, addr)
	var res reservation
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		res = res[:0]
		for _, k := range keys {
			wait, err := reserveKey(ctx, tx, k, now)
			if err != nil {
				return err
			}
			if wait > 0 {
				res = append(res, keyWait{k.key, wait})
			}
		}
		return nil
	})
	if errors.Is(err, errThrottled) {
		return nil, s.throttled(ctx, username, addr, keys, now)
	}
	return res, errs.Wrap("login throttle", err)
}

// A reservation is the waits an attempt set, per key.
type reservation []keyWait

type keyWait struct {
	key  string
	wait time.Duration
}

// reserveKey counts one attempt on k if its wait has passed (errThrottled
// otherwise) and sets the wait before the next.
func reserveKey(ctx context.Context, tx *db.Tx, k throttleKey, now time.Time) (time.Duration, error) {
	ms := now.UnixMilli()
	var failures int
	err := tx.QueryRow(ctx, `INSERT INTO login_throttle (key, failures, next_at, last_at) VALUES (?, 1, 0, ?)
		ON CONFLICT (key) DO UPDATE SET last_at = excluded.last_at,
			failures = CASE WHEN login_throttle.last_at < ? THEN 1 ELSE login_throttle.failures + 1 END
		WHERE login_throttle.next_at <= ?
		RETURNING failures`, k.key, ms, now.Add(-LoginForget).UnixMilli(), ms).Scan(&failures)
	if db.IsNoRows(err) {
		return 0, errThrottled
	}
	if err != nil {
		return 0, err
	}
	wait := loginBackoffMax(failures, k.free, k.maxWait)
	if wait > 0 {
		_, err = tx.Exec(ctx, `UPDATE login_throttle SET next_at = ? WHERE key = ?`, now.Add(wait).UnixMilli(), k.key)
	}
	return wait, err
}

// loginFailed starts the reservation's waits over from now, the moment the
// wrong password is answered (checking it takes a while), so a guesser
// waits the whole backoff between an answer and the next try.
func (s *Service) loginFailed(ctx context.Context, username, addr string, res reservation) error {
	httpx.Logger(ctx).Info("login failed", "username", username, "addr", addr)
	now := s.now()
	for _, kw := range res {
		next := now.Add(kw.wait).UnixMilli()
		if _, err := s.db.Exec(ctx, `UPDATE login_throttle SET next_at = ? WHERE key = ? AND next_at < ?`, next, kw.key, next); err != nil {
			return errs.Wrap("count failed login", err)
		}
	}
	return nil
}

// throttled is the RateLimited answer: the longest wait of keys.
func (s *Service) throttled(ctx context.Context, username, addr string, keys []throttleKey, now time.Time) error {
	var wait int64
	for _, k := range keys {
		var next int64
		err := s.db.QueryRow(ctx, `SELECT next_at FROM login_throttle WHERE key = ?`, k.key).Scan(&next)
		if err != nil && !db.IsNoRows(err) {
			return errs.Wrap("login throttle", err)
		}
		wait = max(wait, next-now.UnixMilli())
	}
	wait = max(wait, 1) // the wait ended just now: the next try goes through
	httpx.Logger(ctx).Warn("login throttled", "username", username, "addr", addr, "retry_after_ms", wait)
	return &errs.Error{Kind: errs.RateLimited, Code: "too_many_login_attempts",
		Message: "too many failed logins; try again after Retry-After seconds", RetryAfter: time.Duration(wait) * time.Millisecond}
}

// loginSucceeded forgets the account's failures at addr and gives the
// attempt back to the address and the account-wide count (only one: a good
// login must not clear guesses at other accounts or from other addresses).
func (s *Service) loginSucceeded(ctx context.Context, username, addr string) {
	keys := loginKeys(username, addr)
	_, _ = s.db.Exec(ctx, `DELETE FROM login_throttle WHERE key = ?`, keys[0].key)
	for _, k := range keys[1:] {
		_, _ = s.db.Exec(ctx, `UPDATE login_throttle SET failures = failures - 1,
			next_at = CASE WHEN failures - 1 < ? THEN 0 ELSE next_at END
			WHERE key = ? AND failures > 0`, k.free, k.key)
	}
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
