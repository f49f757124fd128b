package support

import (
	"context"
	"log/slog"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/jobs"
)

// RemindKind is the periodic job that reminds the provider of tickets
// whose first answer is due soon.
const RemindKind = "support.remind"

// remindBefore is how many working minutes before the first-response
// deadline the provider is reminded.
const remindBefore = 30

// RegisterJobs reminds, every five minutes, of unanswered tickets due
// within 30 working minutes (or already late) — only in the shop's
// working time, once per ticket. The reminder is a log line (level warn,
// "ticket answer due") until alerts go to the provider's own channels.
func (s *Service) RegisterJobs(q *jobs.Queue, log *slog.Logger) {
	q.Every(RemindKind, 5*time.Minute, func(ctx context.Context, _ jobs.Job) error {
		_, err := s.Remind(ctx, log)
		return err
	})
}

// Remind sends the reminders due now and returns how many it sent.
func (s *Service) Remind(ctx context.Context, log *slog.Logger) (int, error) {
	now := s.now()
	type due struct{ id, shop, at int64 }
	rows, err := db.All(ctx, s.db, func(r db.Scanner) (due, error) {
		var d due
		return d, r.Scan(&d.id, &d.shop, &d.at)
	}, `SELECT id, shop_id, response_due_at FROM tickets WHERE status NOT IN ('resolved', 'closed') AND responded_at IS NULL
		AND response_reminded_at IS NULL AND response_due_at <= ? ORDER BY shop_id, id LIMIT 1000`, now.Add(7*24*time.Hour).UnixMilli())
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, d := range rows {
		cal, err := calendarOf(ctx, s.db, d.shop)
		if err != nil {
			return sent, err
		}
		dueAt := ms(d.at)
		if !cal.InWorkingTime(now) || (dueAt.After(now) && cal.Between(now, dueAt) > remindBefore) {
			continue
		}
		res, err := s.db.Exec(ctx, `UPDATE tickets SET response_reminded_at = ? WHERE id = ? AND response_reminded_at IS NULL`, now.UnixMilli(), d.id)
		if err != nil {
			return sent, err
		}
		if n, _ := res.RowsAffected(); n == 1 { // another process may have sent it
			log.Warn("ticket answer due", "shop", d.shop, "ticket", d.id, "due", dueAt, "late", now.After(dueAt))
			sent++
		}
	}
	return sent, nil
}
