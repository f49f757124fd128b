// Package points is the members' points (积分): a ledger per member in
// which every change is an entry with a reason, a source and a key unique
// per shop, so the same purchase, check-in or adjustment never counts
// twice. The balance is the running total of the entries, kept on the
// member's account row by compare-and-set updates that never let it go
// below zero. Entries that add points are lots that expire (by default at
// the end of the next year, Asia/Shanghai); spending takes the lots that
// expire first, and an order's points come back to the same lots when it
// is cancelled or refunded, in proportion to the money refunded.
//
// Points are earned on the goods paid when an order completes (received,
// so a return within the window does not first earn and then claw back),
// spent at checkout through order.Points (a pricing step: N points make
// one yuan, capped at a share of the goods), given as rewards by other
// rooms (Earn: check-in, tasks) and adjusted by staff with a reason.
package points

import (
	"context"
	"math/bits"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Expiry policies.
const (
	ExpireNever         = "never"
	ExpireEndOfNextYear = "end_of_next_year" // earned in 2026: gone at 2028-01-01 00:00 Asia/Shanghai
	ExpireAfterDays     = "days"
)

// Settings are a shop's points rules.
type Settings struct {
	Enabled       bool      `json:"enabled" doc:"earning on purchases and paying with points at checkout; rewards of other rooms (check-in) are given as they are configured"`
	EarnPerYuan   int64     `json:"earn_per_yuan" doc:"points earned per yuan of goods paid (0 = none), 0–1000"`
	RedeemPerYuan int64     `json:"redeem_per_yuan" doc:"points that make one yuan at checkout, 1–100000"`
	RedeemCapBP   int64     `json:"redeem_cap_bp" doc:"the most points may pay, in basis points of the goods after the coupon (5000 = 50%), 0–10000"`
	Expiry        string    `json:"expiry" enum:"never,end_of_next_year,days"`
	ExpiryDays    int64     `json:"expiry_days" doc:"with expiry = days: how long a lot lasts, 1–3650"`
	CoursePoints  int64     `json:"course_points" doc:"points for completing a paid-content course, once per course (0 = none), 0–100000"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// DefaultSettings are a shop's rules until staff save their own: off.
func DefaultSettings() Settings {
	return Settings{EarnPerYuan: 1, RedeemPerYuan: 100, RedeemCapBP: 5000, Expiry: ExpireEndOfNextYear, ExpiryDays: 365}
}

func (s Settings) validate() error {
	var v errs.Validator
	v.Check(s.EarnPerYuan >= 0 && s.EarnPerYuan <= 1000, "earn_per_yuan", "must be 0 to 1000")
	v.Check(s.RedeemPerYuan >= 1 && s.RedeemPerYuan <= 100000, "redeem_per_yuan", "must be 1 to 100000")
	v.Check(s.RedeemCapBP >= 0 && s.RedeemCapBP <= 10000, "redeem_cap_bp", "must be 0 to 10000 (basis points)")
	v.Check(s.Expiry == ExpireNever || s.Expiry == ExpireEndOfNextYear || s.Expiry == ExpireAfterDays, "expiry", "must be never, end_of_next_year or days")
	v.Check(s.Expiry != ExpireAfterDays || (s.ExpiryDays >= 1 && s.ExpiryDays <= 3650), "expiry_days", "must be 1 to 3650")
	v.Check(s.CoursePoints >= 0 && s.CoursePoints <= 100000, "course_points", "must be 0 to 100000")
	return v.Err()
}

var shanghai = time.FixedZone("CST", 8*3600) // Asia/Shanghai: no daylight saving since 1991

// expiresAt is when a lot earned at t goes under these rules (nil: never).
func (s Settings) expiresAt(t time.Time) *time.Time {
	var at time.Time
	switch s.Expiry {
	case ExpireEndOfNextYear:
		at = time.Date(t.In(shanghai).Year()+2, 1, 1, 0, 0, 0, 0, shanghai)
	case ExpireAfterDays:
		at = t.Add(time.Duration(s.ExpiryDays) * 24 * time.Hour)
	default:
		return nil
	}
	return &at
}

// Service runs the points ledger.
type Service struct {
	db         *db.DB
	now        func() time.Time
	multiplier Multiplier
	// onExpiring tells a member points expire soon (a message), in the
	// notice pass's transaction.
	onExpiring func(ctx context.Context, tx *db.Tx, e ExpiringSoon) error
}

// Multiplier is what a member's level does to points earned on purchases
// (basis points of the shop's rate: 10000 = 1×); the levels service.
type Multiplier interface {
	PointsMultiplier(ctx context.Context, tx *db.Tx, shopID, memberID int64) (int64, error)
}

// SetMultiplier plugs member levels into earning.
func (s *Service) SetMultiplier(m Multiplier) { s.multiplier = m }

// NewService returns the points service.
func NewService(d *db.DB) *Service { return &Service{db: d, now: time.Now} }

// SetClock replaces the clock (tests: expiry).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Settings reads a shop's rules (the defaults until saved).
func (s *Service) Settings(ctx context.Context, shopID int64) (Settings, error) {
	return settingsOf(ctx, s.db, shopID)
}

func settingsOf(ctx context.Context, q db.Querier, shopID int64) (Settings, error) {
	st := DefaultSettings()
	var updated int64
	err := q.QueryRow(ctx, `SELECT enabled, earn_per_yuan, redeem_per_yuan, redeem_cap_bp, expiry, expiry_days, course_points, updated_at
		FROM points_settings WHERE shop_id = ?`, shopID).Scan(&st.Enabled, &st.EarnPerYuan, &st.RedeemPerYuan, &st.RedeemCapBP,
		&st.Expiry, &st.ExpiryDays, &st.CoursePoints, &updated)
	if db.IsNoRows(err) {
		return st, nil
	}
	st.UpdatedAt = time.UnixMilli(updated).UTC()
	return st, errs.Wrap("points settings", err)
}

// SaveSettings replaces a shop's rules. Lots already earned keep the
// expiry they were given.
func (s *Service) SaveSettings(ctx context.Context, shopID int64, in Settings) (Settings, error) {
	if err := in.validate(); err != nil {
		return Settings{}, err
	}
	now := s.now().UnixMilli()
	_, err := s.db.Exec(ctx, `INSERT INTO points_settings (shop_id, enabled, earn_per_yuan, redeem_per_yuan, redeem_cap_bp, expiry, expiry_days,
			course_points, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (shop_id) DO UPDATE SET enabled = excluded.enabled, earn_per_yuan = excluded.earn_per_yuan,
			redeem_per_yuan = excluded.redeem_per_yuan, redeem_cap_bp = excluded.redeem_cap_bp, expiry = excluded.expiry,
			expiry_days = excluded.expiry_days, course_points = excluded.course_points, updated_at = excluded.updated_at`,
		shopID, in.Enabled, in.EarnPerYuan, in.RedeemPerYuan, in.RedeemCapBP, in.Expiry, in.ExpiryDays, in.CoursePoints, now)
	if err != nil {
		return Settings{}, errs.Wrap("save points settings", err)
	}
	return s.Settings(ctx, shopID)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// mulDiv is a×b/c in 128-bit arithmetic (the quotient must fit).
func mulDiv(a, b, c int64) (q, r int64) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	uq, ur := bits.Div64(hi, lo, uint64(c))
	return int64(uq), int64(ur)
}
