// Package ratelimit counts hits per key in the database, so every server
// process sees the same counts. It uses a sliding window: the previous
// fixed window's hits count in proportion to how much of it is still within
// the last window-length, so bursts cannot double up at a boundary.
package ratelimit

import (
	"context"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// Limiter allows at most a number of hits per key per window.
type Limiter struct {
	db  *db.DB
	now func() time.Time
}

// New returns a limiter on d.
func New(d *db.DB) *Limiter { return &Limiter{db: d, now: time.Now} }

// Allow records a hit on key and reports whether it is within limit for the
// last window.
func (l *Limiter) Allow(ctx context.Context, key string, limit int, window time.Duration) (bool, error) {
	wait, err := l.Check(ctx, key, limit, window)
	return err == nil && wait == 0, err
}

// Check records a hit on key and returns 0 when it is within limit for the
// last window, else how long until another hit would be (if no other hit
// comes first): the Retry-After to send.
func (l *Limiter) Check(ctx context.Context, key string, limit int, window time.Duration) (time.Duration, error) {
	now, size := l.now().UnixMilli(), window.Milliseconds()
	start := now / size * size
	var hits, prev int64
	err := l.db.QueryRow(ctx, `
		INSERT INTO rate_limits (key, window_start, hits, prev_hits) VALUES (?, ?, 1, 0)
		ON CONFLICT (key) DO UPDATE SET
			prev_hits = CASE WHEN rate_limits.window_start = excluded.window_start THEN rate_limits.prev_hits
				WHEN rate_limits.window_start = excluded.window_start - ? THEN rate_limits.hits ELSE 0 END,
			hits = CASE WHEN rate_limits.window_start = excluded.window_start THEN rate_limits.hits + 1 ELSE 1 END,
			window_start = excluded.window_start
		RETURNING hits, prev_hits`, key, start, size).Scan(&hits, &prev)
	if err != nil {
		return 0, err
	}
	// hits + prev × (the share of the previous window still within reach)
	// ≤ limit, in integers scaled by the window size.
	overlap := size - (now - start)
	if hits*size+prev*overlap <= int64(limit)*size {
		return 0, nil
	}
	return time.Duration(waitMillis(now-start, size, hits, prev, int64(limit))) * time.Millisecond, nil
}

// waitMillis is how long from t (ms into the current window of size ms)
// until one more hit passes: later in this window, once enough of the
// previous window's prev hits have slid out of reach, or in the next one,
// where this window's hits become the previous ones.
func waitMillis(t, size, hits, prev, limit int64) int64 {
	if prev > 0 && hits+1 <= limit {
		// (hits+1)·size + prev·(size−t′) ≤ limit·size
		at := size - (limit-hits-1)*size/prev
		if at < size {
			return max(at-t, 1)
		}
	}
	next := int64(0) // into the next window: size + hits·(size−t″) ≤ limit·size
	if hits > 0 && (limit-1)*size/hits < size {
		next = size - (limit-1)*size/hits
	}
	return size - t + next
}

// Reset forgets key's hits (after a successful login, say).
func (l *Limiter) Reset(ctx context.Context, key string) error {
	_, err := l.db.Exec(ctx, `DELETE FROM rate_limits WHERE key = ?`, key)
	return err
}

// Sweep deletes windows that ended before cutoff.
func (l *Limiter) Sweep(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := l.db.Exec(ctx, `DELETE FROM rate_limits WHERE window_start < ?`, cutoff.UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
