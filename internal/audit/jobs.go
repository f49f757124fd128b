package audit

import (
	"context"

	"log/slog"
	"time"

	"github.com/kaidian/kaidian/internal/platform/jobs"
)

// RegisterJobs seals new records every few seconds and prunes old ones
// daily, each once per cluster.
func (s *Service) RegisterJobs(q *jobs.Queue, log *slog.Logger) {
	q.Every("audit.seal", 5*time.Second, func(ctx context.Context, _ jobs.Job) error {
		_, err := s.Seal(ctx)
		return err
	})
	q.Every("audit.prune", 24*time.Hour, func(ctx context.Context, _ jobs.Job) error {
		n, err := s.Prune(ctx)
		if n > 0 {
			log.Info("audit log pruned", "records", n, "kept_days", int(s.keep/(24*time.Hour)))
		}
		return err
	})
}
