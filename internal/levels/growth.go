package levels

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// year is the calendar year of t in Asia/Shanghai.
func year(t time.Time) int64 { return int64(t.In(shanghai).Year()) }

// grow writes a growth entry into year's bucket (a repeated key changes
// nothing) and re-evaluates the member's level in tx.
func (s *Service) grow(ctx context.Context, tx *db.Tx, shopID, memberID, delta, bucket int64, reason, sourceType, sourceID, key string) error {
	now := s.now()
	res, err := tx.Exec(ctx, `INSERT INTO growth_entries (shop_id, member_id, year, delta, reason, source_type, source_id, idem_key, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (shop_id, idem_key) DO NOTHING`,
		shopID, memberID, bucket, delta, reason, sourceType, sourceID, key, now.UnixMilli())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	return s.evaluate(ctx, tx, shopID, memberID, now)
}

// Grow adds growth from activity of another room (a check-in, a task),
// inside its transaction; key makes it count once.
func (s *Service) Grow(ctx context.Context, tx *db.Tx, shopID, memberID, delta int64, reason, sourceID, key string) error {
	if delta <= 0 {
		return nil
	}
	return s.grow(ctx, tx, shopID, memberID, delta, year(s.now()), reason, "activity", sourceID, key)
}

// qualifying is the member's growth of this year and the last.
func qualifying(ctx context.Context, q db.Querier, shopID, memberID int64, now time.Time) (int64, error) {
	var g sql.NullInt64
	err := q.QueryRow(ctx, `SELECT CAST(SUM(delta) AS BIGINT) FROM growth_entries WHERE shop_id = ? AND member_id = ? AND year >= ?`,
		shopID, memberID, year(now)-1).Scan(&g)
	return max(g.Int64, 0), err
}

// rankFor is the highest level the growth reaches (0: none).
func rankFor(ladder []Level, growth int64) int64 {
	var rank int64
	for _, l := range ladder {
		if growth >= l.GrowthMin {
			rank = l.Rank
		}
	}
	return rank
}

// evaluate sets the member's level from their growth: a rise at once, a
// fall announced for NoticeDays later (an earlier announcement keeps its
// date), a pending fall dropped when the growth is back. The member's row
// is written first, so on PostgreSQL concurrent evaluations of one member
// queue on its lock.
func (s *Service) evaluate(ctx context.Context, tx *db.Tx, shopID, memberID int64, now time.Time) error {
	ms := now.UnixMilli()
	if _, err := tx.Exec(ctx, `INSERT INTO member_growth (shop_id, member_id, rank, rank_since, reviewed_year, updated_at) VALUES (?, ?, 0, ?, ?, ?)
		ON CONFLICT (shop_id, member_id) DO UPDATE SET updated_at = excluded.updated_at`, shopID, memberID, ms, year(now), ms); err != nil {
		return err
	}
	var rank int64
	var pendingAt sql.NullInt64
	if err := tx.QueryRow(ctx, `SELECT rank, pending_at FROM member_growth WHERE shop_id = ? AND member_id = ?`, shopID, memberID).
		Scan(&rank, &pendingAt); err != nil {
		return err
	}
	ladder, err := levelsOf(ctx, tx, shopID)
	if err != nil {
		return err
	}
	growth, err := qualifying(ctx, tx, shopID, memberID, now)
	if err != nil {
		return err
	}
	target := rankFor(ladder, growth)
	switch {
	case target > rank:
		_, err = tx.Exec(ctx, `UPDATE member_growth SET rank = ?, rank_since = ?, pending_rank = NULL, pending_at = NULL, reviewed_year = ?
			WHERE shop_id = ? AND member_id = ?`, target, ms, year(now), shopID, memberID)
	case target == rank:
		_, err = tx.Exec(ctx, `UPDATE member_growth SET pending_rank = NULL, pending_at = NULL, reviewed_year = ? WHERE shop_id = ? AND member_id = ?`,
			year(now), shopID, memberID)
	default:
		at := now.Add(NoticeDays * 24 * time.Hour).UnixMilli()
		if pendingAt.Valid {
			at = pendingAt.Int64
		}
		_, err = tx.Exec(ctx, `UPDATE member_growth SET pending_rank = ?, pending_at = ?, reviewed_year = ? WHERE shop_id = ? AND member_id = ?`,
			target, at, year(now), shopID, memberID)
		if err == nil && !pendingAt.Valid && s.onFall != nil {
			err = s.onFall(ctx, tx, FallNotice{ShopID: shopID, MemberID: memberID, Level: levelName(ladder, rank),
				NewLevel: levelName(ladder, target), At: time.UnixMilli(at)})
		}
	}
	return err
}

// levelName is the name of the level of rank ("" for none).
func levelName(ladder []Level, rank int64) string {
	for _, l := range ladder {
		if l.Rank == rank {
			return l.Name
		}
	}
	return ""
}

// applyFall applies a fall whose notice has run out, if the growth still
// says so (else the announcement is dropped).
func (s *Service) applyFall(ctx context.Context, tx *db.Tx, shopID, memberID int64, now time.Time) error {
	if err := s.evaluate(ctx, tx, shopID, memberID, now); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE member_growth SET rank = pending_rank, rank_since = ?, pending_rank = NULL, pending_at = NULL
		WHERE shop_id = ? AND member_id = ? AND pending_at <= ?`, now.UnixMilli(), shopID, memberID, now.UnixMilli())
	return err
}

// Hooks are the levels' part of an order's life, registered on the order
// service by server.
func (s *Service) Hooks(o *order.Service) {
	o.OnCompleted(s.orderCompleted)
	o.OnRefunded(s.orderRefunded)
}

// orderCompleted grows the member by one per yuan of goods paid (net of
// refunds so far).
func (s *Service) orderCompleted(ctx context.Context, tx *db.Tx, c order.CompletedOrder) error {
	growth := (c.GoodsPaid - min(c.RefundedAmount, c.GoodsPaid)) / 100
	if growth <= 0 {
		return nil
	}
	return s.grow(ctx, tx, c.ShopID, c.MemberID, growth, year(s.now()), "order completed", "order", itoa(c.OrderID), "order:"+itoa(c.OrderID))
}

// orderRefunded takes back the growth an order gave in proportion to the
// money refunded after it gave it, into the year it was given in.
func (s *Service) orderRefunded(ctx context.Context, tx *db.Tx, r order.RefundedOrder) error {
	var earned, bucket, taken int64
	err := tx.QueryRow(ctx, `SELECT delta, year FROM growth_entries WHERE shop_id = ? AND idem_key = ?`, r.ShopID, "order:"+itoa(r.OrderID)).Scan(&earned, &bucket)
	if db.IsNoRows(err) || r.PaidAmount <= 0 {
		return nil
	}
	if err != nil {
		return err
	}
	if err := tx.QueryRow(ctx, `SELECT COALESCE(CAST(-SUM(delta) AS BIGINT), 0) FROM growth_entries WHERE shop_id = ? AND member_id = ?
		AND source_type = 'order-refund' AND source_id = ?`, r.ShopID, r.MemberID, itoa(r.OrderID)).Scan(&taken); err != nil {
		return err
	}
	target := earned
	if r.RefundedOK < r.PaidAmount {
		target = earned * r.RefundedOK / r.PaidAmount
	}
	if target <= taken {
		return nil
	}
	return s.grow(ctx, tx, r.ShopID, r.MemberID, -(target - taken), bucket, "order refunded", "order-refund", itoa(r.OrderID),
		fmt.Sprintf("order-refund:%d:%d", r.OrderID, target))
}
