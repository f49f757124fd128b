package promotion

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
)

// SettleCommissionsKind is the periodic job that settles or reverses
// commissions whose after-sales window has closed.
const SettleCommissionsKind = "distribution.settle"

const day = 24 * time.Hour

// DistributionSettings is how a shop runs distribution (分销).
type DistributionSettings struct {
	Enabled          bool  `json:"enabled"`
	BindingDays      int64 `json:"binding_days" doc:"how long a share link binds a visitor to its promoter"`
	Level1RateBP     int64 `json:"level1_rate_bp" doc:"commission of the promoter who brought the buyer, basis points of the goods paid"`
	Level2RateBP     int64 `json:"level2_rate_bp" doc:"commission of that promoter's own recruiter (0 = one level only)"`
	SettleDays       int64 `json:"settle_days" doc:"commissions stay frozen until the order has been completed this many days (the after-sales window)"`
	ReferralCouponID int64 `json:"referral_coupon_id" doc:"coupon given to a promoter when a buyer they brought pays a first order (0 = none)"`
}

func (in DistributionSettings) validate() error {
	var v errs.Validator
	v.Check(in.BindingDays >= 1 && in.BindingDays <= 365, "binding_days", "must be 1 to 365")
	v.Check(in.Level1RateBP >= 0 && in.Level1RateBP <= 5000, "level1_rate_bp", "must be 0 to 5000 (50%)")
	v.Check(in.Level2RateBP >= 0 && in.Level2RateBP <= 5000, "level2_rate_bp", "must be 0 to 5000 (50%)")
	v.Check(in.SettleDays >= 0 && in.SettleDays <= 90, "settle_days", "must be 0 to 90")
	v.Check(in.ReferralCouponID >= 0, "referral_coupon_id", "must be a coupon id or 0")
	return v.Err()
}

// Settings returns the shop's distribution settings (defaults when none).
func (s *Service) Settings(ctx context.Context, q db.Querier, shopID int64) (DistributionSettings, error) {
	st := DistributionSettings{BindingDays: 30, SettleDays: 7}
	var coupon *int64
	err := q.QueryRow(ctx, `SELECT enabled, binding_days, level1_rate_bp, level2_rate_bp, settle_days, referral_coupon_id
		FROM distribution_settings WHERE shop_id = ?`, shopID).Scan(&st.Enabled, &st.BindingDays, &st.Level1RateBP, &st.Level2RateBP, &st.SettleDays, &coupon)
	if db.IsNoRows(err) {
		return st, nil
	}
	if coupon != nil {
		st.ReferralCouponID = *coupon
	}
	return st, err
}

// SetSettings replaces the shop's distribution settings.
func (s *Service) SetSettings(ctx context.Context, shopID int64, in DistributionSettings) (DistributionSettings, error) {
	if err := in.validate(); err != nil {
		return DistributionSettings{}, err
	}
	if in.ReferralCouponID != 0 {
		if _, err := s.Coupon(ctx, shopID, in.ReferralCouponID); err != nil {
			return DistributionSettings{}, errs.Field("referral_coupon_id", "coupon_not_found", "no such coupon in this shop")
		}
	}
	_, err := s.db.Exec(ctx, `INSERT INTO distribution_settings (shop_id, enabled, binding_days, level1_rate_bp, level2_rate_bp,
		settle_days, referral_coupon_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (shop_id) DO UPDATE SET enabled = excluded.enabled, binding_days = excluded.binding_days,
		level1_rate_bp = excluded.level1_rate_bp, level2_rate_bp = excluded.level2_rate_bp, settle_days = excluded.settle_days,
		referral_coupon_id = excluded.referral_coupon_id, updated_at = excluded.updated_at`,
		shopID, in.Enabled, in.BindingDays, in.Level1RateBP, in.Level2RateBP, in.SettleDays, nullID(in.ReferralCouponID), s.now().UnixMilli())
	if err != nil {
		return DistributionSettings{}, errs.Wrap("distribution settings", err)
	}
	return s.Settings(ctx, s.db, shopID)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// ProductCommission sets a fixed level-one commission per unit of a
// product (perUnit < 0 removes it: the rate applies again).
func (s *Service) SetProductCommission(ctx context.Context, shopID, spuID, perUnit int64) error {
	var n int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM spus WHERE id = ? AND shop_id = ? AND deleted_at IS NULL`, spuID, shopID).Scan(&n); err != nil {
		return errs.Wrap("product commission", err)
	}
	if n == 0 {
		return errs.E(errs.NotFound, "product_not_found", "no such product")
	}
	if perUnit > 100_000_000 {
		return errs.Field("per_unit", "invalid_amount", "at most 1,000,000 yuan")
	}
	var err error
	if perUnit < 0 {
		_, err = s.db.Exec(ctx, `DELETE FROM product_commissions WHERE shop_id = ? AND spu_id = ?`, shopID, spuID)
	} else {
		_, err = s.db.Exec(ctx, `INSERT INTO product_commissions (shop_id, spu_id, per_unit, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (shop_id, spu_id) DO UPDATE SET per_unit = excluded.per_unit, updated_at = excluded.updated_at`,
			shopID, spuID, perUnit, s.now().UnixMilli())
	}
	return errs.Wrap("product commission", err)
}

// Promoter is a buyer who earns commissions.
type Promoter struct {
	ID          int64     `json:"id" doc:"put it in share links: the visitor binds with POST /api/v1/referrals"`
	MemberID    int64     `json:"member_id"`
	ParentID    *int64    `json:"parent_id" doc:"the promoter who recruited this one (level two)"`
	Frozen      int64     `json:"frozen" doc:"fen waiting for the after-sales window"`
	Available   int64     `json:"available" doc:"fen that may be withdrawn"`
	Withdrawing int64     `json:"withdrawing" doc:"fen asked for, not yet paid out"`
	PaidOut     int64     `json:"paid_out"`
	Owed        int64     `json:"owed" doc:"fen of commissions clawed back after refunds that the available balance could not cover; taken from the next commissions that settle"`
	CreatedAt   time.Time `json:"created_at"`
}

const promoterColumns = `id, member_id, parent_id, frozen, available, withdrawing, paid_out, owed, created_at`

func scanPromoter(row db.Scanner) (Promoter, error) {
	var p Promoter
	var created int64
	err := row.Scan(&p.ID, &p.MemberID, &p.ParentID, &p.Frozen, &p.Available, &p.Withdrawing, &p.PaidOut, &p.Owed, &created)
	p.CreatedAt = time.UnixMilli(created).UTC()
	return p, err
}

var (
	errNotPromoter      = errs.E(errs.NotFound, "not_a_promoter", "you are not a promoter of this shop")
	errPromoterNotFound = errs.E(errs.NotFound, "promoter_not_found", "no such promoter")
	errDistributionOff  = errs.E(errs.Conflict, "distribution_disabled", "this shop does not run distribution")
)

// BecomePromoter makes a buyer a promoter; the promoter they are bound to
// (if any) becomes their recruiter. Asking again returns the same promoter.
func (s *Service) BecomePromoter(ctx context.Context, shopID, memberID int64) (Promoter, error) {
	st, err := s.Settings(ctx, s.db, shopID)
	if err != nil {
		return Promoter{}, errs.Wrap("become promoter", err)
	}
	if !st.Enabled {
		return Promoter{}, errDistributionOff
	}
	now := s.now().UnixMilli()
	var parent *int64
	var p int64
	err = s.db.QueryRow(ctx, `SELECT promoter_id FROM referral_bindings WHERE shop_id = ? AND member_id = ? AND expires_at > ?`,
		shopID, memberID, now).Scan(&p)
	if err == nil {
		parent = &p
	} else if !db.IsNoRows(err) {
		return Promoter{}, errs.Wrap("become promoter", err)
	}
	_, err = s.db.Exec(ctx, `INSERT INTO promoters (shop_id, member_id, parent_id, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (shop_id, member_id) DO NOTHING`, shopID, memberID, parent, now)
	if err != nil {
		return Promoter{}, errs.Wrap("become promoter", err)
	}
	return s.MyPromoter(ctx, shopID, memberID)
}

// MyPromoter returns the buyer's promoter account.
func (s *Service) MyPromoter(ctx context.Context, shopID, memberID int64) (Promoter, error) {
	p, err := scanPromoter(s.db.QueryRow(ctx, `SELECT `+promoterColumns+` FROM promoters WHERE shop_id = ? AND member_id = ?`, shopID, memberID))
	if db.IsNoRows(err) {
		return p, errNotPromoter
	}
	return p, errs.Wrap("promoter", err)
}

// Promoters lists the shop's promoters, newest first, a page at a time (ids
// below after; limit+1 rows, see pages.go).
func (s *Service) Promoters(ctx context.Context, shopID, after int64, limit int) ([]Promoter, error) {
	out, err := db.All(ctx, s.db, scanPromoter, `SELECT `+promoterColumns+` FROM promoters WHERE shop_id = ? AND id < ?
		ORDER BY id DESC LIMIT ?`, shopID, below(after), limit+1)
	return out, errs.Wrap("promoters", err)
}

// Binding is who brought a buyer.
type Binding struct {
	PromoterID int64     `json:"promoter_id"`
	BoundAt    time.Time `json:"bound_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	New        bool      `json:"new" doc:"false when an earlier, still live binding was kept"`
}

// Bind binds a visitor who came through promoterID's share link, unless
// a live binding exists (the first promoter keeps the buyer for the
// binding period). A promoter cannot bind themselves.
func (s *Service) Bind(ctx context.Context, shopID, memberID, promoterID int64) (Binding, error) {
	st, err := s.Settings(ctx, s.db, shopID)
	if err != nil {
		return Binding{}, errs.Wrap("bind", err)
	}
	if !st.Enabled {
		return Binding{}, errDistributionOff
	}
	var owner int64
	err = s.db.QueryRow(ctx, `SELECT member_id FROM promoters WHERE id = ? AND shop_id = ?`, promoterID, shopID).Scan(&owner)
	if db.IsNoRows(err) {
		return Binding{}, errPromoterNotFound
	}
	if err != nil {
		return Binding{}, errs.Wrap("bind", err)
	}
	if owner == memberID {
		return Binding{}, errs.Field("promoter_id", "self_referral", "a promoter cannot bind themselves")
	}
	if loop, err := recruitedBy(ctx, s.db, shopID, promoterID, memberID); err != nil {
		return Binding{}, errs.Wrap("bind", err)
	} else if loop {
		return Binding{}, errs.Field("promoter_id", "referral_loop", "this promoter was recruited by you: a referral chain cannot loop")
	}
	now := s.now()
	expires := now.Add(time.Duration(st.BindingDays) * day)
	res, err := s.db.Exec(ctx, `INSERT INTO referral_bindings (shop_id, member_id, promoter_id, bound_at, expires_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (shop_id, member_id) DO UPDATE SET promoter_id = excluded.promoter_id, bound_at = excluded.bound_at,
		expires_at = excluded.expires_at, rewarded = FALSE WHERE referral_bindings.expires_at <= ?`,
		shopID, memberID, promoterID, now.UnixMilli(), expires.UnixMilli(), now.UnixMilli())
	if err != nil {
		return Binding{}, errs.Wrap("bind", err)
	}
	n, _ := res.RowsAffected()
	var b Binding
	var bound, exp int64
	if err := s.db.QueryRow(ctx, `SELECT promoter_id, bound_at, expires_at FROM referral_bindings WHERE shop_id = ? AND member_id = ?`,
		shopID, memberID).Scan(&b.PromoterID, &bound, &exp); err != nil {
		return Binding{}, errs.Wrap("bind", err)
	}
	b.BoundAt, b.ExpiresAt, b.New = time.UnixMilli(bound).UTC(), time.UnixMilli(exp).UTC(), n == 1
	return b, nil
}

// recruitedBy reports whether memberID is promoterID's recruiter (its
// parent promoter): binding memberID to promoterID would close a loop
// A→B→A in which A earns level two on A's own orders.
func recruitedBy(ctx context.Context, q db.Querier, shopID, promoterID, memberID int64) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM promoters p JOIN promoters parent ON parent.id = p.parent_id
		WHERE p.id = ? AND p.shop_id = ? AND parent.member_id = ?`, promoterID, shopID, memberID).Scan(&n)
	return n > 0, err
}

// commissionOnPaid records the frozen commissions of a paid order whose
// buyer is bound to a promoter: level one at the product's fixed amount
// or the rate, level two at its rate, both rounded down to the fen. It
// also gives the referral reward on the buyer's first paid order.
func (s *Service) commissionOnPaid(ctx context.Context, tx *db.Tx, shopID, orderID int64, now time.Time) error {
	st, err := s.Settings(ctx, tx, shopID)
	if err != nil || !st.Enabled {
		return err
	}
	var buyer, level1, level1Member int64
	var parent, parentMember *int64
	var rewarded bool
	err = tx.QueryRow(ctx, `SELECT o.member_id, b.promoter_id, p.member_id, p.parent_id, pp.member_id, b.rewarded FROM orders o
		JOIN referral_bindings b ON b.shop_id = o.shop_id AND b.member_id = o.member_id AND b.expires_at > ?
		JOIN promoters p ON p.id = b.promoter_id
		LEFT JOIN promoters pp ON pp.id = p.parent_id
		WHERE o.id = ? AND o.shop_id = ?`, now.UnixMilli(), orderID, shopID).Scan(&buyer, &level1, &level1Member, &parent, &parentMember, &rewarded)
	if db.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	base, fixed, err := commissionBase(ctx, tx, shopID, orderID)
	if err != nil {
		return err
	}
	// A promoter never earns on their own purchase, at either level (a
	// loop A→B→A would otherwise pay A level two on A's orders).
	if level1Member != buyer {
		if err := addCommission(ctx, tx, shopID, orderID, level1, 1, st.Level1RateBP, fixed, base, now); err != nil {
			return err
		}
	}
	if parent != nil && st.Level2RateBP > 0 && *parentMember != buyer {
		if err := addCommission(ctx, tx, shopID, orderID, *parent, 2, st.Level2RateBP, 0, base, now); err != nil {
			return err
		}
	}
	if rewarded || st.ReferralCouponID == 0 {
		return nil
	}
	return s.referralReward(ctx, tx, shopID, buyer, level1, st.ReferralCouponID, now)
}

// commissionBase is what the buyer paid for goods (after discounts,
// without shipping), and the fixed per-unit commissions of its products.
func commissionBase(ctx context.Context, tx *db.Tx, shopID, orderID int64) (base, fixed int64, err error) {
	err = tx.QueryRow(ctx, `SELECT COALESCE(SUM(l.amount - l.discount), 0), COALESCE(SUM(l.quantity * c.per_unit), 0)
		FROM order_lines l LEFT JOIN product_commissions c ON c.shop_id = l.shop_id AND c.spu_id = l.spu_id
		WHERE l.order_id = ? AND l.shop_id = ?`, orderID, shopID).Scan(&base, &fixed)
	return base, fixed, err
}

// commissionAmount is the commission on what the buyer kept of base
// (goods paid for, after discounts): the rate on kept, rounded down, or
// when the products have fixed per-unit commissions, their total scaled by
// kept/base (a fixed commission shrinks with a partial refund like a rate
// does); never more than kept.
func commissionAmount(rateBP, fixed, base, kept int64) int64 {
	kept = max(kept, 0)
	amount := kept * rateBP / 10000
	if fixed > 0 {
		amount = 0
		if base > 0 {
			amount = fixed * kept / base
		}
	}
	return min(max(amount, 0), kept)
}

func addCommission(ctx context.Context, tx *db.Tx, shopID, orderID, promoterID, level, rateBP, fixed, base int64, now time.Time) error {
	amount := commissionAmount(rateBP, fixed, base, base)
	if amount == 0 {
		return nil
	}
	res, err := tx.Exec(ctx, `INSERT INTO commissions (shop_id, order_id, promoter_id, level, rate_bp, fixed, base_amount, amount, status, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'frozen', ?) ON CONFLICT (order_id, level) DO NOTHING`,
		shopID, orderID, promoterID, level, rateBP, fixed, base, amount, now.UnixMilli())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // already recorded
	}
	return db.ExpectOne(tx.Exec(ctx, `UPDATE promoters SET frozen = frozen + ? WHERE id = ? AND shop_id = ?`, amount, promoterID, shopID))
}

// referralReward queues the referral coupon for the promoter, once per
// brought buyer (the binding's rewarded flag is the compare-and-set) and
// only on the buyer's first paid order. The coupon is issued by a job, in
// its own transaction: a coupon that ran out must not fail the payment.
func (s *Service) referralReward(ctx context.Context, tx *db.Tx, shopID, buyer, promoterID, couponID int64, now time.Time) error {
	var paidOrders int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM orders WHERE shop_id = ? AND member_id = ? AND paid_at IS NOT NULL`, shopID, buyer).Scan(&paidOrders); err != nil {
		return err
	}
	if err := db.ExpectOne(tx.Exec(ctx, `UPDATE referral_bindings SET rewarded = TRUE WHERE shop_id = ? AND member_id = ? AND rewarded = FALSE`,
		shopID, buyer)); err != nil {
		return err
	}
	if paidOrders > 1 { // not the buyer's first paid order: no reward, ever
		return nil
	}
	var promoterMember int64
	if err := tx.QueryRow(ctx, `SELECT member_id FROM promoters WHERE id = ?`, promoterID).Scan(&promoterMember); err != nil {
		return err
	}
	_, err := jobs.Enqueue(ctx, tx, ReferralRewardKind, rewardJob{MemberID: promoterMember, CouponID: couponID},
		jobs.Options{ShopID: shopID, UniqueKey: "referral-reward:" + strconv.FormatInt(shopID, 10) + ":" + strconv.FormatInt(buyer, 10)})
	return err
}

// ReferralRewardKind issues a referral coupon.
const ReferralRewardKind = "distribution.reward"

type rewardJob struct {
	MemberID int64 `json:"member_id"`
	CouponID int64 `json:"coupon_id"`
}

// SettleCommissions settles frozen commissions whose order has been
// completed for the shop's settle_days (recomputed on what was not
// refunded) and reverses those whose order was fully refunded. A
// commission whose order has a refund WeChat has not answered yet waits:
// settling on money in flight would pay too little when the refund then
// fails. It reports how many it changed.
func (s *Service) SettleCommissions(ctx context.Context) (int, error) {
	now := s.now()
	type due struct {
		id, shopID, orderID, promoterID, rate, fixed, amount, settleDays int64
		closed                                                           bool
		completed                                                        *int64
	}
	rows, err := s.db.Query(ctx, `SELECT c.id, c.shop_id, c.order_id, c.promoter_id, c.rate_bp, c.fixed, c.amount,
		COALESCE(d.settle_days, 7), o.status = 'refunded', o.completed_at
		FROM commissions c JOIN orders o ON o.id = c.order_id LEFT JOIN distribution_settings d ON d.shop_id = c.shop_id
		WHERE c.status = 'frozen' AND (o.status = 'refunded' OR o.completed_at IS NOT NULL)
		AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = c.order_id AND r.status NOT IN ('succeeded', 'failed'))
		LIMIT 1000`)
	if err != nil {
		return 0, err
	}
	var list []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.shopID, &d.orderID, &d.promoterID, &d.rate, &d.fixed, &d.amount, &d.settleDays, &d.closed, &d.completed); err != nil {
			rows.Close()
			return 0, err
		}
		if d.closed || (d.completed != nil && *d.completed+d.settleDays*day.Milliseconds() <= now.UnixMilli()) {
			list = append(list, d)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, d := range list {
		err := s.db.InTx(ctx, func(tx *db.Tx) error {
			final := int64(0)
			if !d.closed {
				base, _, err := commissionBase(ctx, tx, d.shopID, d.orderID)
				if err != nil {
					return err
				}
				var refunded int64
				if err := tx.QueryRow(ctx, succeededRefunds, d.orderID).Scan(&refunded); err != nil {
					return err
				}
				final = min(d.amount, commissionAmount(d.rate, d.fixed, base, base-refunded))
			}
			status := "settled"
			if final == 0 {
				status = "reversed"
			}
			if err := db.ExpectOne(tx.Exec(ctx, `UPDATE commissions SET status = ?, amount = ?, settled_at = ?,
				refunded_seen = (`+succeededRefunds+`) WHERE id = ? AND status = 'frozen'`,
				status, final, now.UnixMilli(), d.orderID, d.id)); err != nil {
				return err
			}
			// What the promoter owes from earlier claw-backs is paid first.
			return releaseToBalance(ctx, tx, d.promoterID, "frozen", d.amount, final)
		})
		if err != nil {
			return 0, err
		}
	}
	clawed, err := s.clawBack(ctx, now)
	return len(list) + clawed, err
}

// succeededRefunds sums an order's refunds that WeChat confirmed (the
// order's refunded_amount also counts refunds still in flight).
const succeededRefunds = `SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE order_id = ? AND status = 'succeeded'`

// clawBack takes back settled commissions whose order was refunded after
// they settled. The refund path changes only the order and its refunds;
// this sweep, like settling, reads them. It goes through the refunds that
// succeeded (far fewer than commissions), and for each commission whose
// order's confirmed refunds grew since it last looked, recomputes the
// commission on what was kept; the difference becomes a negative ledger
// row, paid from the promoter's available balance and, for what that
// cannot cover, owed (taken from the next commissions that settle). The
// compare-and-set on clawed_back and the (commission, refunded total) key
// make each claw-back happen once, also with several servers.
func (s *Service) clawBack(ctx context.Context, now time.Time) (int, error) {
	type due struct {
		id, shopID, orderID, promoterID, rate, fixed, amount, clawed, refunded int64
	}
	list, err := db.All(ctx, s.db, func(row db.Scanner) (due, error) {
		var d due
		return d, row.Scan(&d.id, &d.shopID, &d.orderID, &d.promoterID, &d.rate, &d.fixed, &d.amount, &d.clawed, &d.refunded)
	}, `SELECT c.id, c.shop_id, c.order_id, c.promoter_id, c.rate_bp, c.fixed, c.amount, c.clawed_back, SUM(r.amount)
		FROM refunds r JOIN commissions c ON c.order_id = r.order_id AND c.status = 'settled' AND c.amount > c.clawed_back
		WHERE r.status = 'succeeded'
		GROUP BY c.id, c.shop_id, c.order_id, c.promoter_id, c.rate_bp, c.fixed, c.amount, c.clawed_back, c.refunded_seen
		HAVING SUM(r.amount) > c.refunded_seen LIMIT 500`)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range list {
		err := s.db.InTx(ctx, func(tx *db.Tx) error {
			base, _, err := commissionBase(ctx, tx, d.shopID, d.orderID)
			if err != nil {
				return err
			}
			// What the commission should be on what the buyer kept; it only
			// falls as refunds add up, so the claw-back is never undone.
			target := min(d.amount, commissionAmount(d.rate, d.fixed, base, base-d.refunded))
			claw := max(d.amount-d.clawed-target, 0)
			if err := db.ExpectOne(tx.Exec(ctx, `UPDATE commissions SET clawed_back = clawed_back + ?, refunded_seen = ?
				WHERE id = ? AND status = 'settled' AND clawed_back = ?`, claw, d.refunded, d.id, d.clawed)); err != nil {
				return err
			}
			if claw == 0 {
				return nil
			}
			return takeBack(ctx, tx, d.shopID, d.promoterID, d.id, d.orderID, claw, d.refunded, now)
		})
		if db.IsNoRows(err) || db.IsUniqueViolation(err) {
			continue // changed meanwhile: the next sweep sees the new state
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// takeBack debits claw fen from a promoter: from the available balance
// as far as it goes, the rest owed; and writes the negative ledger row.
func takeBack(ctx context.Context, tx *db.Tx, shopID, promoterID, commissionID, orderID, claw, refunded int64, now time.Time) error {
	var available int64
	if err := tx.QueryRow(ctx, `SELECT available FROM promoters WHERE id = ? AND shop_id = ?`, promoterID, shopID).Scan(&available); err != nil {
		return err
	}
	fromAvailable := min(available, claw)
	if err := db.ExpectOne(tx.Exec(ctx, `UPDATE promoters SET available = available - ?, owed = owed + ? WHERE id = ? AND available = ?`,
		fromAvailable, claw-fromAvailable, promoterID, available)); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO commission_clawbacks (shop_id, commission_id, promoter_id, order_id, amount, from_available, owed,
		refunded_total, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		shopID, commissionID, promoterID, orderID, -claw, fromAvailable, claw-fromAvailable, refunded, now.UnixMilli())
	return err
}

// Commission is one commission as its promoter sees it.
type Commission struct {
	ID         int64     `json:"id"`
	OrderID    int64     `json:"order_id"`
	Level      int64     `json:"level"`
	Base       int64     `json:"base_amount" doc:"goods paid, fen"`
	Amount     int64     `json:"amount" doc:"fen (final once settled)"`
	ClawedBack int64     `json:"clawed_back" doc:"fen taken back after the order was refunded later"`
	Status     string    `json:"status" enum:"frozen,settled,reversed" doc:"frozen, settled or reversed"`
	CreatedAt  time.Time `json:"created_at"`
}

// Commissions lists a promoter's commissions, newest first.
func (s *Service) Commissions(ctx context.Context, shopID, promoterID, after int64, limit int) ([]Commission, error) {
	out, err := db.All(ctx, s.db, func(row db.Scanner) (Commission, error) {
		var c Commission
		var created int64
		err := row.Scan(&c.ID, &c.OrderID, &c.Level, &c.Base, &c.Amount, &c.ClawedBack, &c.Status, &created)
		c.CreatedAt = time.UnixMilli(created).UTC()
		return c, err
	}, `SELECT id, order_id, level, base_amount, amount, clawed_back, status, created_at FROM commissions
		WHERE shop_id = ? AND promoter_id = ? AND id < ? ORDER BY id DESC LIMIT ?`, shopID, promoterID, below(after), limit+1)
	return out, errs.Wrap("commissions", err)
}

// Withdrawal is a promoter's request to be paid.
type Withdrawal struct {
	ID         int64     `json:"id"`
	PromoterID int64     `json:"promoter_id"`
	Amount     int64     `json:"amount" doc:"fen"`
	Status     string    `json:"status" enum:"requested,approved,rejected,paid" doc:"requested, approved, rejected or paid"`
	Note       string    `json:"note"`
	Reference  string    `json:"reference" doc:"the payout's reference (bank or WeChat transfer number)"`
	DecidedBy  string    `json:"decided_by"`
	CreatedAt  time.Time `json:"created_at"`
	// FirstApprovedBy and ApprovalsNeeded show the two-person rule: above
	// the shop's withdrawal limit a second, different person approves.
	FirstApprovedBy *int64 `json:"first_approved_by" doc:"staff account id of the first approval (null: none yet)"`
	ApprovalsNeeded int    `json:"approvals_needed" doc:"approvals still needed before the payout (0 once approved, paid or rejected)"`
	// A payout first settles what the promoter owes from commissions
	// clawed back after refunds.
	OwedOffset int64 `json:"owed_offset" doc:"fen of the amount that settles the promoter's claw-back debt instead of being paid out: what it would be now for an open withdrawal, what it was for a paid one"`
	Payable    int64 `json:"payable" doc:"fen to transfer to the promoter: amount − owed_offset (0 for a rejected withdrawal)"`
}

const withdrawalColumns = `id, promoter_id, amount, status, note, reference, decided_by, created_at, first_approved_by,
	CASE WHEN status IN ('requested', 'approved') THEN (SELECT owed FROM promoters p WHERE p.id = withdrawals.promoter_id) ELSE owed_offset END`

func scanWithdrawal(row db.Scanner) (Withdrawal, error) {
	var w Withdrawal
	var created int64
	var owed int64
	err := row.Scan(&w.ID, &w.PromoterID, &w.Amount, &w.Status, &w.Note, &w.Reference, &w.DecidedBy, &created, &w.FirstApprovedBy, &owed)
	w.CreatedAt = time.UnixMilli(created).UTC()
	if w.Status != "rejected" {
		w.OwedOffset = min(owed, w.Amount)
		w.Payable = w.Amount - w.OwedOffset
	}
	return w, err
}

var errWithdrawalNotFound = errs.E(errs.NotFound, "withdrawal_not_found", "no such withdrawal")

// Withdraw asks for amount of the promoter's available balance (moved to
// withdrawing at once with a compare-and-set, so two requests cannot
// spend the same fen).
func (s *Service) Withdraw(ctx context.Context, shopID, memberID, amount int64) (Withdrawal, error) {
	if amount < 100 || amount > 100_000_000 {
		return Withdrawal{}, errs.Field("amount", "invalid_amount", "must be 1 to 1,000,000 yuan in fen")
	}
	p, err := s.MyPromoter(ctx, shopID, memberID)
	if err != nil {
		return Withdrawal{}, err
	}
	now := s.now().UnixMilli()
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		err := db.ExpectOne(tx.Exec(ctx, `UPDATE promoters SET available = available - ?, withdrawing = withdrawing + ?
			WHERE id = ? AND available >= ?`, amount, amount, p.ID, amount))
		if db.IsNoRows(err) {
			return errs.Field("amount", "insufficient_balance", "more than your available balance")
		}
		if err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO withdrawals (shop_id, promoter_id, amount, status, created_at, updated_at)
			VALUES (?, ?, ?, 'requested', ?, ?) RETURNING id`, shopID, p.ID, amount, now, now).Scan(&id)
	})
	if err != nil {
		return Withdrawal{}, errs.Wrap("withdraw", err)
	}
	return s.withdrawal(ctx, shopID, id)
}

func (s *Service) withdrawal(ctx context.Context, shopID, id int64) (Withdrawal, error) {
	w, err := scanWithdrawal(s.db.QueryRow(ctx, `SELECT `+withdrawalColumns+` FROM withdrawals WHERE id = ? AND shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return w, errWithdrawalNotFound
	}
	if err != nil {
		return w, errs.Wrap("withdrawal", err)
	}
	limit, err := withdrawalLimit(ctx, s.db, shopID)
	w.ApprovalsNeeded = limit.approvalsNeeded(w)
	return w, errs.Wrap("withdrawal", err)
}

// Withdrawals lists withdrawals of the shop (promoterID > 0: of one
// promoter; status "": any), newest first, a page at a time (ids below
// after; limit+1 rows, see pages.go).
func (s *Service) Withdrawals(ctx context.Context, shopID, promoterID int64, status string, after int64, limit int) ([]Withdrawal, error) {
	out, err := db.All(ctx, s.db, scanWithdrawal, `SELECT `+withdrawalColumns+` FROM withdrawals WHERE shop_id = ?
		AND (? = 0 OR promoter_id = ?) AND (? = '' OR status = ?) AND id < ? ORDER BY id DESC LIMIT ?`,
		shopID, promoterID, promoterID, status, status, below(after), limit+1)
	if err != nil {
		return nil, errs.Wrap("withdrawals", err)
	}
	wl, err := withdrawalLimit(ctx, s.db, shopID)
	for i := range out {
		out[i].ApprovalsNeeded = wl.approvalsNeeded(out[i])
	}
	return out, errs.Wrap("withdrawals", err)
}

// DecideInput is a staff decision on a withdrawal.
type DecideInput struct {
	Note      string `json:"note"`
	Reference string `json:"reference" doc:"required when recording the payout"`
	// Payable, when given with pay, must be what is payable now: a
	// claw-back that landed after staff read the withdrawal is refused
	// (409 payable_changed) rather than recorded against a transfer made
	// for another amount.
	Payable *int64 `json:"payable,omitempty" doc:"fen transferred to the promoter (with pay): must equal the withdrawal's payable now"`
}

// Decide moves a withdrawal: approve (requested → approved; above the
// shop's withdrawal limit the first approval only records itself and a
// second, different person's approval moves it), reject (requested or
// approved → rejected, the amount goes back to available), or pay
// (approved → paid, with the payout's reference). Each decision is logged
// with the staff member who made it, in the same transaction.
func (s *Service) Decide(ctx context.Context, st auth.Staff, id int64, action string, in DecideInput) (Withdrawal, error) {
	in.Note, in.Reference = strings.TrimSpace(in.Note), strings.TrimSpace(in.Reference)
	if len([]rune(in.Note)) > 200 || len(in.Reference) > 64 {
		return Withdrawal{}, errs.Field("note", "too_long", "note at most 200 characters, reference at most 64")
	}
	if action == "pay" && in.Reference == "" {
		return Withdrawal{}, errs.Field("reference", "reference_required", "give the payout's reference")
	}
	w, err := s.withdrawal(ctx, st.ShopID, id)
	if err != nil {
		return w, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		logged, err := s.move(ctx, tx, st, w, action, in)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO withdrawal_decisions (shop_id, withdrawal_id, action, staff_id, note, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, st.ShopID, w.ID, logged, st.AccountID, in.Note, s.now().UnixMilli())
		return err
	})
	if err != nil {
		return Withdrawal{}, errs.Wrap("decide withdrawal", err)
	}
	return s.withdrawal(ctx, st.ShopID, id)
}

// move applies one decision to w with compare-and-set updates and says
// what to log ("first_approval" when an approval only counts as the first
// of two).
func (s *Service) move(ctx context.Context, tx *db.Tx, st auth.Staff, w Withdrawal, action string, in DecideInput) (string, error) {
	by, now := "staff:"+strconv.FormatInt(st.AccountID, 10), s.now().UnixMilli()
	switch action {
	case "approve":
		return s.approve(ctx, tx, st, w, in)
	case "reject":
		if err := db.ExpectOne(tx.Exec(ctx, `UPDATE withdrawals SET status = 'rejected', note = ?, decided_by = ?, updated_at = ?
			WHERE id = ? AND shop_id = ? AND status IN ('requested', 'approved')`, in.Note, by, now, w.ID, st.ShopID)); err != nil {
			return "", illegal(w, "rejected", err)
		}
		// The amount comes back to the balance, which pays what the
		// promoter owes from claw-backs first (as a settling commission does).
		return action, releaseToBalance(ctx, tx, w.PromoterID, "withdrawing", w.Amount, w.Amount)
	case "pay":
		if err := db.ExpectOne(tx.Exec(ctx, `UPDATE withdrawals SET status = 'paid', note = ?, reference = ?, decided_by = ?, updated_at = ?
			WHERE id = ? AND shop_id = ? AND status = 'approved'`, in.Note, in.Reference, by, now, w.ID, st.ShopID)); err != nil {
			if w.Status == "requested" && w.FirstApprovedBy != nil && db.IsNoRows(err) {
				return "", errs.E(errs.Conflict, "withdrawal_needs_second_approval",
					"this withdrawal is above the shop's limit: a second person must approve it before the payout")
			}
			return "", illegal(w, "paid", err)
		}
		return action, payOut(ctx, tx, w, in.Payable)
	}
	return "", errs.E(errs.Invalid, "invalid_action", "unknown action")
}

// releaseToBalance takes amount fen out of a promoter's bucket (the column
// "frozen" or "withdrawing") and credits credit fen to the available
// balance, which first pays what the promoter owes from claw-backs.
func releaseToBalance(ctx context.Context, tx *db.Tx, promoterID int64, bucket string, amount, credit int64) error {
	return db.ExpectOne(tx.Exec(ctx, `UPDATE promoters SET `+bucket+` = `+bucket+` - ?,
		available = available + CASE WHEN owed >= ? THEN 0 ELSE ? - owed END,
		owed = CASE WHEN owed >= ? THEN owed - ? ELSE 0 END
		WHERE id = ? AND `+bucket+` >= ?`,
		amount, credit, credit, credit, credit, promoterID, amount))
}

// payOut books a paid withdrawal on its promoter: what the promoter owes
// from claw-backs is settled from it first (owed_offset), the rest is paid
// out; a compare-and-set on the debt keeps a concurrent claw-back out.
func payOut(ctx context.Context, tx *db.Tx, w Withdrawal, payable *int64) error {
	var owed int64
	if err := tx.QueryRow(ctx, `SELECT owed FROM promoters WHERE id = ?`, w.PromoterID).Scan(&owed); err != nil {
		return err
	}
	offset := min(owed, w.Amount)
	if payable != nil && *payable != w.Amount-offset {
		return errs.E(errs.Conflict, "payable_changed", fmt.Sprintf(
			"the payable amount is now %d fen (the promoter owes %d fen from refunded orders): transfer that amount", w.Amount-offset, owed))
	}
	if err := db.ExpectOne(tx.Exec(ctx, `UPDATE withdrawals SET owed_offset = ? WHERE id = ?`, offset, w.ID)); err != nil {
		return err
	}
	err := db.ExpectOne(tx.Exec(ctx, `UPDATE promoters SET withdrawing = withdrawing - ?, paid_out = paid_out + ?, owed = owed - ?
		WHERE id = ? AND withdrawing >= ? AND owed = ?`, w.Amount, w.Amount-offset, offset, w.PromoterID, w.Amount, owed))
	if db.IsNoRows(err) {
		return errs.E(errs.Conflict, "payable_changed", "a claw-back landed meanwhile: read the withdrawal's payable again")
	}
	return err
}

// illegal turns a compare-and-set that matched no row into a 409.
func illegal(w Withdrawal, to string, err error) error {
	if db.IsNoRows(err) {
		return errs.E(errs.Conflict, "illegal_transition", "a "+w.Status+" withdrawal cannot be "+to)
	}
	return err
}

func (s *Service) registerDistributionJobs(q *jobs.Queue) {
	q.Every(SettleCommissionsKind, time.Minute, func(ctx context.Context, _ jobs.Job) error {
		_, err := s.SettleCommissions(ctx)
		return err
	})
	q.Handle(ReferralRewardKind, func(ctx context.Context, j jobs.Job) error {
		var p rewardJob
		if err := json.Unmarshal(j.Payload, &p); err != nil {
			return err
		}
		_, err := s.issue(ctx, j.ShopID, p.MemberID, p.CouponID, "rule")
		if err != nil && errs.As(err).Kind != errs.Internal {
			return nil // used up, disabled or over the limit: no reward
		}
		return err
	})
}

// PromoterID is the id of memberID's promoter account, 0 when they have
// none.
func (s *Service) PromoterID(ctx context.Context, shopID, memberID int64) (int64, error) {
	p, err := s.MyPromoter(ctx, shopID, memberID)
	if errs.Is(err, "not_a_promoter") {
		return 0, nil
	}
	return p.ID, err
}
