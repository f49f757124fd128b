package levels

import (
	"context"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/jobs"
)

// Job kinds: the yearly review (and after a ladder change), the falls
// whose notice ran out, birthday points.
const (
	ReviewKind   = "levels.review"
	FallsKind    = "levels.falls"
	BirthdayKind = "levels.birthday"
)

// Rewards gives points (the points service's Earn).
type Rewards interface {
	Earn(ctx context.Context, tx *db.Tx, shopID, memberID, points int64, reason, sourceID, key string) error
}

// RegisterJobs runs the review, the falls and birthday points hourly on
// one process of the cluster.
func (s *Service) RegisterJobs(q *jobs.Queue, rewards Rewards) {
	q.Every(ReviewKind, time.Hour, func(ctx context.Context, _ jobs.Job) error { _, err := s.Review(ctx); return err })
	q.Every(FallsKind, time.Hour, func(ctx context.Context, _ jobs.Job) error { _, err := s.ApplyFalls(ctx); return err })
	if rewards != nil {
		q.Every(BirthdayKind, time.Hour, func(ctx context.Context, _ jobs.Job) error { _, err := s.GiveBirthdayPoints(ctx, rewards); return err })
	}
}

type memberKey struct{ shopID, memberID int64 }

func scanKey(row db.Scanner) (memberKey, error) {
	var k memberKey
	return k, row.Scan(&k.shopID, &k.memberID)
}

// eachMember runs fn in a transaction per member of the pages query
// returns (a page of at most 500 keys, repeated until it is empty: fn
// must take each member out of the query), and reports how many.
func (s *Service) eachMember(ctx context.Context, query string, args []any, fn func(tx *db.Tx, k memberKey) error) (int, error) {
	done := 0
	for {
		page, err := db.All(ctx, s.db, scanKey, query+` LIMIT 500`, args...)
		if err != nil || len(page) == 0 {
			return done, err
		}
		for _, k := range page {
			if err := s.db.InTx(ctx, func(tx *db.Tx) error { return fn(tx, k) }); err != nil {
				return done, err
			}
			done++
		}
	}
}

// Review looks at every member with a level not yet reviewed this year
// (on 1 January, last year's growth drops out; after a ladder change,
// everyone): rises apply, falls are announced.
func (s *Service) Review(ctx context.Context) (int, error) {
	now := s.now()
	return s.eachMember(ctx, `SELECT shop_id, member_id FROM member_growth WHERE reviewed_year < ?`, []any{year(now)},
		func(tx *db.Tx, k memberKey) error { return s.evaluate(ctx, tx, k.shopID, k.memberID, now) })
}

// ApplyFalls applies the falls whose notice has run out (those whose
// growth came back are dropped instead).
func (s *Service) ApplyFalls(ctx context.Context) (int, error) {
	now := s.now()
	return s.eachMember(ctx, `SELECT shop_id, member_id FROM member_growth WHERE pending_at <= ?`, []any{now.UnixMilli()},
		func(tx *db.Tx, k memberKey) error { return s.applyFall(ctx, tx, k.shopID, k.memberID, now) })
}

// GiveBirthdayPoints gives each member whose birthday is today (China
// time) their level's birthday points, once a year (the points key).
func (s *Service) GiveBirthdayPoints(ctx context.Context, rewards Rewards) (int, error) {
	today := s.now().In(shanghai)
	type due struct {
		memberKey
		points int64
	}
	list, err := db.All(ctx, s.db, func(row db.Scanner) (due, error) {
		var d due
		return d, row.Scan(&d.shopID, &d.memberID, &d.points)
	}, `SELECT g.shop_id, g.member_id, l.birthday_points FROM member_growth g
		JOIN members m ON m.id = g.member_id AND m.shop_id = g.shop_id
		JOIN member_levels l ON l.shop_id = g.shop_id AND l.rank = g.rank
		WHERE m.birthday = ? AND l.birthday_points > 0`, today.Format("01-02"))
	if err != nil {
		return 0, err
	}
	for _, d := range list {
		key := "birthday:" + itoa(d.memberID) + ":" + itoa(int64(today.Year()))
		if err := s.db.InTx(ctx, func(tx *db.Tx) error {
			return rewards.Earn(ctx, tx, d.shopID, d.memberID, d.points, "生日礼", itoa(int64(today.Year())), key)
		}); err != nil {
			return 0, err
		}
	}
	return len(list), nil
}
