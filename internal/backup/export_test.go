package backup

import (
	"context"
	"io"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// SetClock replaces the service's clock (tests).
func SetClock(s *Service, now func() time.Time) { s.now = now }

// WriteOpened is Write calling opened once its snapshot is open.
func WriteOpened(ctx context.Context, d *db.DB, w io.Writer, o Options, opened func()) (Manifest, error) {
	return write(ctx, d, w, o, opened)
}

// WithSleep makes o's pacing sleep through f.
func WithSleep(o Options, f func(time.Duration)) Options {
	o.sleep = f
	return o
}
