package privacy

import (
	"context"
	"log/slog"
	"time"

	"github.com/kaidian/kaidian/internal/platform/jobs"
)

// DeletionsKind is the periodic job that carries out waiting deletions.
const DeletionsKind = "privacy.deletions"

// RegisterJobs carries out waiting deletions hourly and prunes old data
// daily (each once per cluster).
func (s *Service) RegisterJobs(q *jobs.Queue, log *slog.Logger) {
	q.Every(DeletionsKind, time.Hour, func(ctx context.Context, _ jobs.Job) error {
		n, err := s.CarryOutWaiting(ctx)
		if n > 0 {
			log.Info("accounts deleted after their blockers ended", "accounts", n)
		}
		return err
	})
	q.Every(RetentionKind, 24*time.Hour, func(ctx context.Context, _ jobs.Job) error {
		n, err := s.Prune(ctx)
		if n > 0 {
			log.Info("old data pruned by the retention schedule", "rows", n)
		}
		return err
	})
}

// RetentionKind is the daily job that prunes by the retention schedule.
const RetentionKind = "privacy.retention"
