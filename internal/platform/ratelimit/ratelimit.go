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
		return false, err
	}
	// hits + prev × (the share of the previous window still within reach)
	// ≤ limit, in integers scaled by the window size.
	overlap := size - (now - start)
	return hits*size+prev*overlap <= int64(limit)*size, nil
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
