package levels

import (
	"context"
	"database/sql"
	"time"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
)

// Checkout is the levels as checkout sees them (order.Levels).
type Checkout struct{ *Service }

var _ order.Levels = Checkout{}

// Benefits is the buyer's level's checkout benefits (none without one):
// one indexed read per checkout in a shop with levels, none in one
// without.
func (c Checkout) Benefits(ctx context.Context, q db.Querier, shopID, memberID int64) (order.LevelBenefits, error) {
	var b order.LevelBenefits
	if has, err := c.shopHasLevels(ctx, q, shopID); err != nil || !has {
		return b, err
	}
	err := q.QueryRow(ctx, `SELECT l.name, l.discount_bp, l.free_shipping FROM member_growth g
		JOIN member_levels l ON l.shop_id = g.shop_id AND l.rank = g.rank
		WHERE g.shop_id = ? AND g.member_id = ?`, shopID, memberID).Scan(&b.Level, &b.DiscountBP, &b.FreeShipping)
	if db.IsNoRows(err) {
		return order.LevelBenefits{}, nil
	}
	return b, err
}

// PointsMultiplier is the basis points of the shop's earning rate the
// member's level gives (10000 without a level), inside tx.
func (s *Service) PointsMultiplier(ctx context.Context, tx *db.Tx, shopID, memberID int64) (int64, error) {
	var bp sql.NullInt64
	err := tx.QueryRow(ctx, `SELECT l.points_bp FROM member_growth g JOIN member_levels l ON l.shop_id = g.shop_id AND l.rank = g.rank
		WHERE g.shop_id = ? AND g.member_id = ?`, shopID, memberID).Scan(&bp)
	if db.IsNoRows(err) || (err == nil && !bp.Valid) {
		return 10000, nil
	}
	return bp.Int64, err
}

// MemberLevel is a member's level, growth and what comes next.
type MemberLevel struct {
	Rank      int64      `json:"rank" doc:"0: no level yet"`
	Name      string     `json:"name"`
	Growth    int64      `json:"growth" doc:"growth of this year and the last (what the level follows)"`
	Since     *time.Time `json:"since" doc:"when the member reached this level"`
	Benefits  *Level     `json:"benefits" doc:"the level's benefits (null without a level)"`
	Next      *Level     `json:"next" doc:"the next level up (null at the top)"`
	ToNext    int64      `json:"to_next" doc:"growth still needed for the next level"`
	Pending   *Pending   `json:"pending" doc:"an announced fall: the level and when it applies unless the growth comes back"`
	Levels    []Level    `json:"levels" doc:"the shop's ladder, lowest first"`
	ThisYear  int64      `json:"this_year" doc:"growth earned this calendar year (Asia/Shanghai)"`
	NoticeDay int64      `json:"notice_days" doc:"days a fall is announced before it applies"`
}

// Pending is an announced fall.
type Pending struct {
	Rank int64     `json:"rank"`
	Name string    `json:"name"`
	At   time.Time `json:"at"`
}

// Member reads a member's level.
func (s *Service) Member(ctx context.Context, shopID, memberID int64) (MemberLevel, error) {
	now := s.now()
	ladder, err := s.Levels(ctx, shopID)
	if err != nil {
		return MemberLevel{}, err
	}
	out := MemberLevel{Levels: ladder, NoticeDay: NoticeDays}
	var since int64
	var pendingRank, pendingAt sql.NullInt64
	err = s.db.QueryRow(ctx, `SELECT rank, rank_since, pending_rank, pending_at FROM member_growth WHERE shop_id = ? AND member_id = ?`,
		shopID, memberID).Scan(&out.Rank, &since, &pendingRank, &pendingAt)
	if err != nil && !db.IsNoRows(err) {
		return MemberLevel{}, err
	}
	if err == nil && out.Rank > 0 {
		t := time.UnixMilli(since).UTC()
		out.Since = &t
	}
	if out.Growth, err = qualifying(ctx, s.db, shopID, memberID, now); err != nil {
		return MemberLevel{}, err
	}
	if err := s.db.QueryRow(ctx, `SELECT COALESCE(CAST(SUM(delta) AS BIGINT), 0) FROM growth_entries WHERE shop_id = ? AND member_id = ? AND year = ?`,
		shopID, memberID, year(now)).Scan(&out.ThisYear); err != nil {
		return MemberLevel{}, err
	}
	for i := range ladder {
		l := ladder[i]
		if l.Rank == out.Rank {
			out.Name, out.Benefits = l.Name, &l
		}
		if l.Rank == out.Rank+1 {
			out.Next, out.ToNext = &l, max(l.GrowthMin-out.Growth, 0)
		}
		if pendingRank.Valid && pendingAt.Valid && l.Rank == pendingRank.Int64 {
			out.Pending = &Pending{Rank: l.Rank, Name: l.Name, At: time.UnixMilli(pendingAt.Int64).UTC()}
		}
	}
	if pendingRank.Valid && pendingRank.Int64 == 0 && pendingAt.Valid {
		out.Pending = &Pending{At: time.UnixMilli(pendingAt.Int64).UTC()}
	}
	return out, nil
}
