package points

import (
	"context"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/jobs"
)

// ExpiringSoon is a member's points that expire on one China day within
// the notice window.
type ExpiringSoon struct {
	ShopID, MemberID int64
	Points           int64
	ExpiresAt        time.Time // the latest expiry of that day
	Day              int64     // the China day, yyyymmdd: one notice per member and day
}

// OnExpiringSoon sets what tells members their points expire soon.
func (s *Service) OnExpiringSoon(fn func(ctx context.Context, tx *db.Tx, e ExpiringSoon) error) {
	s.onExpiring = fn
}

// ExpiringNoticeKind is the periodic job that tells members of points
// expiring within ExpiringWindow.
const ExpiringNoticeKind = "points.expiring_notice"

// ExpiringWindow is how long before points expire their member is told.
const ExpiringWindow = 7 * 24 * time.Hour

const noticeBatch = 500

// registerNotice runs the notice pass every 6 hours on one process (what
// it tells is keyed by member and day, so a pass again tells nothing new).
func (s *Service) registerNotice(q *jobs.Queue) {
	q.Every(ExpiringNoticeKind, 6*time.Hour, func(ctx context.Context, _ jobs.Job) error {
		_, err := s.NotifyExpiring(ctx)
		return err
	})
}

// NotifyExpiring hands every member with points expiring within the
// window to the hook, a batch per transaction, and reports how many
// (member, day) pairs it handed.
func (s *Service) NotifyExpiring(ctx context.Context) (int, error) {
	if s.onExpiring == nil {
		return 0, nil
	}
	now := s.now()
	from, to := now.UnixMilli(), now.Add(ExpiringWindow).UnixMilli()
	var after [3]int64 // shop, member, expires_at of the last row handed
	total := 0
	for {
		batch, err := expiringBatch(ctx, s.db, from, to, after)
		if err != nil || len(batch) == 0 {
			return total, err
		}
		if err := s.db.InTx(ctx, func(tx *db.Tx) error {
			for _, e := range byDay(batch) {
				if err := s.onExpiring(ctx, tx, e); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return total, err
		}
		last := batch[len(batch)-1]
		after = [3]int64{last.ShopID, last.MemberID, last.ExpiresAt.UnixMilli()}
		total += len(batch)
	}
}

// expiringBatch is the next rows of live lots expiring in (from, to],
// summed per member and expiry time, in (shop, member, expiry) order.
func expiringBatch(ctx context.Context, q db.Querier, from, to int64, after [3]int64) ([]ExpiringSoon, error) {
	return db.All(ctx, q, func(r db.Scanner) (ExpiringSoon, error) {
		var e ExpiringSoon
		var at int64
		err := r.Scan(&e.ShopID, &e.MemberID, &at, &e.Points)
		e.ExpiresAt = time.UnixMilli(at).UTC()
		return e, err
	}, `SELECT shop_id, member_id, expires_at, CAST(SUM(remaining) AS BIGINT) FROM points_entries
		WHERE remaining > 0 AND expires_at > ? AND expires_at <= ?
			AND (shop_id > ? OR (shop_id = ? AND (member_id > ? OR (member_id = ? AND expires_at > ?))))
		GROUP BY shop_id, member_id, expires_at ORDER BY shop_id, member_id, expires_at LIMIT ?`,
		from, to, after[0], after[0], after[1], after[1], after[2], noticeBatch)
}

// byDay merges a member's expiries of the same China day.
func byDay(batch []ExpiringSoon) []ExpiringSoon {
	var out []ExpiringSoon
	for _, e := range batch {
		t := e.ExpiresAt.In(shanghai)
		e.Day = int64(t.Year()*10000 + int(t.Month())*100 + t.Day())
		if n := len(out); n > 0 && out[n-1].ShopID == e.ShopID && out[n-1].MemberID == e.MemberID && out[n-1].Day == e.Day {
			out[n-1].Points += e.Points
			out[n-1].ExpiresAt = e.ExpiresAt
			continue
		}
		out = append(out, e)
	}
	return out
}
