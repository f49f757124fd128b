package content

import (
	"context"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/jobs"
)

// Reminder is an expiry reminder of a membership, handed to OnReminder.
type Reminder struct {
	ShopID, MemberID, EntitlementID int64
	TargetKind                      string
	TargetID                        int64
	EndsAt                          time.Time
	DaysLeft                        int // 7, 3, 1 before the end; -1 the day after
}

// ReminderOffsets are the days before a membership's end (Asia/Shanghai
// days) when a reminder goes out; -1 is the day after it ended.
var ReminderOffsets = []int{7, 3, 1, -1}

// RemindKind is the daily job that sends the reminders.
const RemindKind = "content.remind"

// reminderBatch is how many reminders one transaction writes.
const reminderBatch = 2000

// RegisterJobs runs the reminders on one process of the cluster; the job
// runs hourly and every run finds only what is left of today (the sent
// rows exclude what is done), so a missed run is made up within the hour.
func (s *Service) RegisterJobs(q *jobs.Queue) {
	q.Every(RemindKind, time.Hour, func(ctx context.Context, _ jobs.Job) error {
		_, err := s.SendReminders(ctx)
		return err
	})
}

// dayStart is the first instant (Asia/Shanghai) of the day t falls on,
// moved by days.
func dayStart(t time.Time, days int) time.Time {
	c := t.In(china)
	return time.Date(c.Year(), c.Month(), c.Day()+days, 0, 0, 0, 0, china)
}

// SendReminders finds the memberships (plan entitlements, unrevoked, not
// renewed by a later one) whose end falls on today+7, +3, +1 or -1
// (Asia/Shanghai days), records one reminder row per (entitlement, offset)
// and calls OnReminder in the same transaction, a batch at a time. It
// returns how many reminders it sent.
func (s *Service) SendReminders(ctx context.Context) (int, error) {
	if s.OnReminder == nil {
		return 0, nil // nothing to send through: record nothing, so nothing is marked sent
	}
	now := s.now()
	sent := 0
	for _, off := range ReminderOffsets {
		from, to := ms(dayStart(now, off)), ms(dayStart(now, off+1))
		for {
			n, err := s.remindBatch(ctx, off, from, to, ms(now))
			sent += n
			if err != nil {
				return sent, err
			}
			if n < reminderBatch {
				break
			}
		}
	}
	return sent, nil
}

// remindBatch sends up to reminderBatch reminders of one offset.
func (s *Service) remindBatch(ctx context.Context, off int, from, to, now int64) (int, error) {
	var due []Reminder
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		due, err = db.All(ctx, tx, func(r db.Scanner) (Reminder, error) {
			var rm Reminder
			var end int64
			err := r.Scan(&rm.EntitlementID, &rm.ShopID, &rm.MemberID, &rm.TargetID, &end)
			rm.TargetKind, rm.EndsAt, rm.DaysLeft = KindPlan, fromMS(end), off
			return rm, err
		}, `SELECT e.id, e.shop_id, e.member_id, e.target_id, e.ends_at FROM content_entitlements e
			WHERE e.target_kind = 'plan' AND e.revoked_at IS NULL AND e.ends_at >= ? AND e.ends_at < ?
			AND NOT EXISTS (SELECT 1 FROM content_reminders r WHERE r.entitlement_id = e.id AND r.days_left = ?)
			AND NOT EXISTS (SELECT 1 FROM content_entitlements n WHERE n.shop_id = e.shop_id AND n.member_id = e.member_id
				AND n.target_kind = 'plan' AND n.target_id = e.target_id AND n.revoked_at IS NULL AND (n.ends_at IS NULL OR n.ends_at > e.ends_at))
			ORDER BY e.id LIMIT ?`, from, to, off, reminderBatch)
		if err != nil {
			return err
		}
		for _, rm := range due {
			res, err := tx.Exec(ctx, `INSERT INTO content_reminders (entitlement_id, days_left, shop_id, created_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (entitlement_id, days_left) DO NOTHING`, rm.EntitlementID, off, rm.ShopID, now)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue // sent by another run meanwhile
			}
			if err := s.OnReminder(ctx, tx, rm); err != nil {
				return err
			}
		}
		return nil
	})
	return len(due), err
}
