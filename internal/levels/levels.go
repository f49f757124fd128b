// Package levels is member levels (会员等级): a shop's levels by growth
// value (成长值) with their benefits — a member discount on goods without a
// promotion price, free shipping, a points multiplier, birthday points.
//
// Growth is a ledger (entries with keys unique per shop, so an order never
// counts twice) in calendar-year buckets, Asia/Shanghai. A member's level
// follows the growth of this year and the last: a rise applies at once; a
// fall (last year's growth drops out on 1 January, a refund takes growth
// back) is never a surprise: it is announced with the date it applies
// (NoticeDays later) and dropped if the growth comes back before then.
package levels

import (
	"context"
	"sync"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// NoticeDays is how long a member is told before a level falls.
const NoticeDays = 30

// MaxLevels is how many levels a shop may have.
const MaxLevels = 20

var shanghai = time.FixedZone("CST", 8*3600) // Asia/Shanghai: no daylight saving since 1991

// LevelInput is a level as staff set it.
type LevelInput struct {
	Name           string `json:"name" doc:"1–20 characters, unique in the shop"`
	GrowthMin      int64  `json:"growth_min" doc:"growth of this year and the last needed; strictly rising with the levels, the first may be 0"`
	DiscountBP     int64  `json:"discount_bp" doc:"what members pay for goods without a promotion price, basis points: 9500 = 95折; 10000 = no discount (1000–10000)"`
	FreeShipping   bool   `json:"free_shipping"`
	PointsBP       int64  `json:"points_bp" doc:"points earned on purchases, basis points of the shop's rate: 15000 = 1.5× (10000–100000)"`
	BirthdayPoints int64  `json:"birthday_points" doc:"points given on the member's birthday (China time), 0–100000"`
}

// Level is one of the shop's levels.
type Level struct {
	Rank int64 `json:"rank" doc:"1 is the lowest"`
	LevelInput
}

// LevelsInput is the shop's whole ladder, lowest first.
type LevelsInput struct {
	Levels []LevelInput `json:"levels" doc:"lowest first, at most 20; an empty list removes levels"`
}

func (in LevelsInput) validate() error {
	var v errs.Validator
	v.Check(len(in.Levels) <= MaxLevels, "levels", "at most 20 levels")
	names := map[string]bool{}
	for i, l := range in.Levels {
		f := func(s string) string { return "levels[" + itoa(int64(i)) + "]." + s }
		n := len([]rune(l.Name))
		v.Check(n >= 1 && n <= 20, f("name"), "must be 1 to 20 characters")
		v.Check(!names[l.Name], f("name"), "names must differ")
		names[l.Name] = true
		v.Check(l.GrowthMin >= 0 && l.GrowthMin <= 1_000_000_000, f("growth_min"), "must be 0 to 1000000000")
		v.Check(i == 0 || l.GrowthMin > in.Levels[i-1].GrowthMin, f("growth_min"), "must be above the level below")
		v.Check(l.DiscountBP >= 1000 && l.DiscountBP <= 10000, f("discount_bp"), "must be 1000 to 10000")
		v.Check(l.PointsBP >= 10000 && l.PointsBP <= 100000, f("points_bp"), "must be 10000 to 100000")
		v.Check(l.BirthdayPoints >= 0 && l.BirthdayPoints <= 100000, f("birthday_points"), "must be 0 to 100000")
	}
	return v.Err()
}

// Service runs member levels.
type Service struct {
	db  *db.DB
	now func() time.Time
	// onFall runs in the transaction that announces a fall (the member is
	// told: a message), once per announcement.
	onFall func(ctx context.Context, tx *db.Tx, f FallNotice) error
	// hasLadder caches, per shop, whether it has levels at all, so a
	// checkout in a shop without levels costs no query (a ladder saved by
	// another process is seen within ladderTTL).
	hasLadder sync.Map // shop id → ladderSeen
}

type ladderSeen struct {
	has bool
	at  time.Time
}

const ladderTTL = 10 * time.Second

// shopHasLevels says whether the shop has a ladder (cached for ladderTTL).
func (s *Service) shopHasLevels(ctx context.Context, q db.Querier, shopID int64) (bool, error) {
	now := time.Now()
	if v, ok := s.hasLadder.Load(shopID); ok && now.Sub(v.(ladderSeen).at) < ladderTTL {
		return v.(ladderSeen).has, nil
	}
	var n int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM member_levels WHERE shop_id = ?`, shopID).Scan(&n); err != nil {
		return false, err
	}
	s.hasLadder.Store(shopID, ladderSeen{has: n > 0, at: now})
	return n > 0, nil
}

// NewService returns the levels service.
func NewService(d *db.DB) *Service { return &Service{db: d, now: time.Now} }

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Levels lists the shop's levels, lowest first.
func (s *Service) Levels(ctx context.Context, shopID int64) ([]Level, error) {
	return levelsOf(ctx, s.db, shopID)
}

func levelsOf(ctx context.Context, q db.Querier, shopID int64) ([]Level, error) {
	return db.All(ctx, q, func(row db.Scanner) (Level, error) {
		var l Level
		return l, row.Scan(&l.Rank, &l.Name, &l.GrowthMin, &l.DiscountBP, &l.FreeShipping, &l.PointsBP, &l.BirthdayPoints)
	}, `SELECT rank, name, growth_min, discount_bp, free_shipping, points_bp, birthday_points FROM member_levels
		WHERE shop_id = ? ORDER BY rank`, shopID)
}

// SaveLevels replaces the shop's ladder. Every member is reviewed against
// it (ReviewKind): rises at once, falls with notice.
func (s *Service) SaveLevels(ctx context.Context, shopID int64, in LevelsInput) ([]Level, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	now := s.now().UnixMilli()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM member_levels WHERE shop_id = ?`, shopID); err != nil {
			return err
		}
		for i, l := range in.Levels {
			if _, err := tx.Exec(ctx, `INSERT INTO member_levels (shop_id, rank, name, growth_min, discount_bp, free_shipping, points_bp, birthday_points, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, shopID, i+1, l.Name, l.GrowthMin, l.DiscountBP, l.FreeShipping, l.PointsBP, l.BirthdayPoints, now); err != nil {
				return err
			}
		}
		// Every member of the shop is looked at again by the review job.
		_, err := tx.Exec(ctx, `UPDATE member_growth SET reviewed_year = 0 WHERE shop_id = ?`, shopID)
		return err
	})
	s.hasLadder.Delete(shopID)
	if err != nil {
		return nil, errs.Wrap("save levels", err)
	}
	return s.Levels(ctx, shopID)
}

// FallNotice is a fall just announced: the member keeps Level until At,
// then has NewLevel ("" = none) unless their growth is back by then.
type FallNotice struct {
	ShopID, MemberID int64
	Level, NewLevel  string
	At               time.Time
}

// OnFallAnnounced sets what runs in the transaction that announces a fall.
func (s *Service) OnFallAnnounced(fn func(ctx context.Context, tx *db.Tx, f FallNotice) error) {
	s.onFall = fn
}
