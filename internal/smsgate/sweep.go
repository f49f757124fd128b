package smsgate

import (
	"context"
	"time"

	"github.com/kaidian/kaidian/internal/platform/jobs"
)

// SweepKind deletes what verification codes leave behind: codes two days
// past their expiry and phones' send slots that opened over a day ago (the
// daily caps live in platform/ratelimit, swept there).
const SweepKind = "smsgate.sweep"

const sweepAfter = 48 * time.Hour

// RegisterJobs sets the hourly sweep.
func (s *Service) RegisterJobs(q *jobs.Queue) { q.Every(SweepKind, time.Hour, s.sweep) }

func (s *Service) sweep(ctx context.Context, _ jobs.Job) error {
	cutoff := s.now().Add(-sweepAfter).UnixMilli()
	if _, err := s.db.Exec(ctx, `DELETE FROM sms_codes WHERE expires_at < ?`, cutoff); err != nil {
		return err
	}
	_, err := s.db.Exec(ctx, `DELETE FROM sms_phone_slots WHERE next_send_at < ?`, s.now().Add(-24*time.Hour).UnixMilli())
	return err
}
