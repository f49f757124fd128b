package promotion

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/pricing"
)

// Coupon is a coupon a shop issues.
type Coupon struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	Kind          string     `json:"kind" enum:"amount,percent,shipping" doc:"amount (满减), percent (折扣) or shipping (包邮)"`
	Amount        int64      `json:"amount" doc:"fen off (amount)"`
	RateBP        int64      `json:"rate_bp" doc:"basis points the buyer pays (percent): 8000 = 8折"`
	Cap           int64      `json:"cap" doc:"most fen off (percent); 0 = no cap"`
	Threshold     int64      `json:"threshold" doc:"in-scope goods must reach this many fen"`
	Scope         string     `json:"scope" enum:"all,categories,products" doc:"all, categories or products"`
	ScopeIDs      []int64    `json:"scope_ids"`
	ValidFrom     *time.Time `json:"valid_from" doc:"fixed window start (or null with valid_days)"`
	ValidUntil    *time.Time `json:"valid_until" doc:"fixed window end"`
	ValidDays     int64      `json:"valid_days" doc:"valid for this many days after claiming (instead of a window)"`
	TotalQuantity int64      `json:"total_quantity"`
	Issued        int64      `json:"issued"`
	PerUserLimit  int64      `json:"per_user_limit"`
	Claimable     bool       `json:"claimable" doc:"buyers can claim it themselves (else staff grant it)"`
	AutoRule      string     `json:"auto_rule" enum:",new_member,birthday" doc:"'', new_member (given to every new buyer) or birthday (given on the buyer's birthday, China time, once a year)"`
	Disabled      bool       `json:"disabled"`
	CreatedAt     time.Time  `json:"created_at"`
}

// NewCoupon is what staff send to create a coupon.
type NewCoupon struct {
	Name          string     `json:"name"`
	Kind          string     `json:"kind"`
	Amount        int64      `json:"amount"`
	RateBP        int64      `json:"rate_bp"`
	Cap           int64      `json:"cap"`
	Threshold     int64      `json:"threshold"`
	Scope         string     `json:"scope"`
	ScopeIDs      []int64    `json:"scope_ids"`
	ValidFrom     *time.Time `json:"valid_from"`
	ValidUntil    *time.Time `json:"valid_until"`
	ValidDays     int64      `json:"valid_days"`
	TotalQuantity int64      `json:"total_quantity"`
	PerUserLimit  int64      `json:"per_user_limit" doc:"default 1"`
	Claimable     bool       `json:"claimable"`
	AutoRule      string     `json:"auto_rule"`
}

func (in *NewCoupon) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	if in.PerUserLimit == 0 {
		in.PerUserLimit = 1
	}
	if in.Scope == "" {
		in.Scope = "all"
	}
	var v errs.Validator
	v.Check(len([]rune(in.Name)) >= 1 && len([]rune(in.Name)) <= 40, "name", "must be 1 to 40 characters")
	switch in.Kind {
	case "amount":
		v.Check(in.Amount >= 1 && in.Amount <= 10_000_000_00, "amount", "must be 1 fen to 10,000,000 yuan")
	case "percent":
		v.Check(in.RateBP >= 100 && in.RateBP <= 9999, "rate_bp", "must be 100 to 9999 (0.1折 to 9.999折)")
	case "shipping":
	default:
		v.Check(false, "kind", "must be amount, percent or shipping")
	}
	if in.Kind != "percent" {
		in.RateBP = 10000
	}
	v.Check(in.Cap >= 0 && in.Threshold >= 0, "threshold", "cap and threshold must not be negative")
	v.Check(in.Scope == "all" || in.Scope == "categories" || in.Scope == "products", "scope", "must be all, categories or products")
	v.Check(in.Scope == "all" || (len(in.ScopeIDs) >= 1 && len(in.ScopeIDs) <= 200), "scope_ids", "a scoped coupon needs 1 to 200 ids")
	window := in.ValidFrom != nil && in.ValidUntil != nil
	v.Check(window != (in.ValidDays > 0), "valid_days", "give valid_from and valid_until, or valid_days, not both")
	v.Check(!window || in.ValidUntil.After(*in.ValidFrom), "valid_until", "must be after valid_from")
	v.Check(in.ValidDays >= 0 && in.ValidDays <= 366, "valid_days", "must be 0 to 366")
	v.Check(in.TotalQuantity >= 1 && in.TotalQuantity <= 100_000_000, "total_quantity", "must be 1 to 100,000,000")
	v.Check(in.PerUserLimit >= 1 && in.PerUserLimit <= 100, "per_user_limit", "must be 1 to 100")
	v.Check(in.AutoRule == "" || in.AutoRule == "new_member" || in.AutoRule == "birthday", "auto_rule", "must be empty, new_member or birthday")
	return v.Err()
}

// CreateCoupon adds a coupon to the shop.
func (s *Service) CreateCoupon(ctx context.Context, shopID int64, in NewCoupon) (Coupon, error) {
	if err := in.validate(); err != nil {
		return Coupon{}, err
	}
	if err := s.checkScope(ctx, shopID, in.Scope, in.ScopeIDs); err != nil {
		return Coupon{}, err
	}
	if in.ScopeIDs == nil {
		in.ScopeIDs = []int64{}
	}
	ids, _ := json.Marshal(in.ScopeIDs)
	now := s.now().UnixMilli()
	var id int64
	err := s.db.QueryRow(ctx, `INSERT INTO coupons (shop_id, name, kind, amount, rate_bp, cap, threshold, scope, scope_ids,
		valid_from, valid_until, valid_days, total_quantity, per_user_limit, claimable, auto_rule, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		shopID, in.Name, in.Kind, in.Amount, in.RateBP, in.Cap, in.Threshold, in.Scope, string(ids),
		timeMS(in.ValidFrom), timeMS(in.ValidUntil), in.ValidDays, in.TotalQuantity, in.PerUserLimit, in.Claimable, in.AutoRule, now, now).Scan(&id)
	if err != nil {
		return Coupon{}, errs.Wrap("create coupon", err)
	}
	return s.Coupon(ctx, shopID, id)
}

// checkScope refuses a scoped coupon naming a product or category that is
// not the shop's (or no longer exists): it would silently never apply, or
// name another shop's goods.
func (s *Service) checkScope(ctx context.Context, shopID int64, scope string, ids []int64) error {
	table := map[string]string{"categories": "categories", "products": "spus"}[scope]
	if table == "" {
		return nil
	}
	unique := map[int64]bool{}
	for _, id := range ids {
		unique[id] = true
	}
	deleted := ""
	if table == "spus" {
		deleted = " AND deleted_at IS NULL"
	}
	ok := 0
	for id := range unique {
		var n int
		if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM `+table+` WHERE id = ? AND shop_id = ?`+deleted, id, shopID).Scan(&n); err != nil {
			return errs.Wrap("coupon scope", err)
		}
		ok += n
	}
	if ok != len(unique) || len(unique) != len(ids) {
		return errs.Field("scope_ids", "scope_not_found", "every id must be one of this shop's "+scope+", each once")
	}
	return nil
}

func timeMS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

const couponColumns = `id, name, kind, amount, rate_bp, cap, threshold, scope, scope_ids, valid_from, valid_until, valid_days,
	total_quantity, issued, per_user_limit, claimable, auto_rule, disabled_at IS NOT NULL, created_at`

func scanCoupon(row db.Scanner) (Coupon, error) {
	var c Coupon
	var ids string
	var from, until *int64
	var created int64
	err := row.Scan(&c.ID, &c.Name, &c.Kind, &c.Amount, &c.RateBP, &c.Cap, &c.Threshold, &c.Scope, &ids, &from, &until, &c.ValidDays,
		&c.TotalQuantity, &c.Issued, &c.PerUserLimit, &c.Claimable, &c.AutoRule, &c.Disabled, &created)
	_ = json.Unmarshal([]byte(ids), &c.ScopeIDs)
	c.ValidFrom, c.ValidUntil, c.CreatedAt = msPtr(from), msPtr(until), time.UnixMilli(created).UTC()
	return c, err
}

var errCouponNotFound = errs.E(errs.NotFound, "coupon_not_found", "no such coupon")

// Coupon returns one of the shop's coupons.
func (s *Service) Coupon(ctx context.Context, shopID, id int64) (Coupon, error) {
	c, err := scanCoupon(s.db.QueryRow(ctx, `SELECT `+couponColumns+` FROM coupons WHERE id = ? AND shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return Coupon{}, errCouponNotFound
	}
	return c, errs.Wrap("coupon", err)
}

// DisableCoupon stops a coupon from being claimed or granted (copies in
// wallets stay usable).
func (s *Service) DisableCoupon(ctx context.Context, shopID, id int64) error {
	err := db.ExpectOne(s.db.Exec(ctx, `UPDATE coupons SET disabled_at = ?, updated_at = ? WHERE id = ? AND shop_id = ?`,
		s.now().UnixMilli(), s.now().UnixMilli(), id, shopID))
	if db.IsNoRows(err) {
		return errCouponNotFound
	}
	return errs.Wrap("disable coupon", err)
}

var (
	errCouponGone     = errs.E(errs.Gone, "coupon_unavailable", "the coupon is disabled, used up or expired")
	errCouponLimit    = errs.E(errs.Conflict, "coupon_limit_reached", "you already have as many of this coupon as allowed")
	errCouponUsed     = errs.E(errs.Conflict, "coupon_used", "the coupon was already used")
	errNotClaimable   = errs.E(errs.Forbidden, "coupon_not_claimable", "this coupon is given by the shop, not claimed")
	errWalletNotFound = errs.E(errs.NotFound, "coupon_not_found", "no such coupon in your wallet")
)

// Claim puts a copy of a claimable coupon in the buyer's wallet.
func (s *Service) ClaimCoupon(ctx context.Context, shopID, memberID, couponID int64) (WalletCoupon, error) {
	return s.issue(ctx, shopID, memberID, couponID, "claim")
}

// Grant gives a coupon to a buyer (staff).
func (s *Service) GrantCoupon(ctx context.Context, shopID, memberID, couponID int64) (WalletCoupon, error) {
	var n int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM members WHERE id = ? AND shop_id = ?`, memberID, shopID).Scan(&n); err != nil {
		return WalletCoupon{}, errs.Wrap("grant coupon", err)
	}
	if n == 0 {
		return WalletCoupon{}, errs.Field("member_id", "member_not_found", "no such member in this shop")
	}
	return s.issue(ctx, shopID, memberID, couponID, "grant")
}

// GiveNewMemberCoupons gives a new buyer every coupon with the new_member
// rule that is still available (quietly skipping those used up).
func (s *Service) GiveNewMemberCoupons(ctx context.Context, shopID, memberID int64) error {
	rows, err := s.db.Query(ctx, `SELECT id FROM coupons WHERE shop_id = ? AND auto_rule = 'new_member' AND disabled_at IS NULL`, shopID)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		_, err := s.issue(ctx, shopID, memberID, id, "rule")
		if err != nil && errs.As(err).Kind == errs.Internal {
			return err
		}
	}
	return rows.Err()
}

// issue takes one from the coupon's total (compare-and-set on issued) and
// inserts the buyer's copy in the next slot; the (coupon, member, slot)
// key makes concurrent claims of one buyer collide instead of passing the
// per-user limit.
func (s *Service) issue(ctx context.Context, shopID, memberID, couponID int64, source string) (WalletCoupon, error) {
	var id int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		id, err = s.IssueTx(ctx, tx, shopID, memberID, couponID, source)
		return err
	})
	if db.IsUniqueViolation(err) {
		return WalletCoupon{}, errCouponLimit
	}
	if err != nil {
		return WalletCoupon{}, errs.Wrap("issue coupon", err)
	}
	return s.walletCoupon(ctx, s.db, shopID, memberID, id, time.Time{})
}

// IssueTx puts a copy of the coupon in the buyer's wallet inside tx and
// returns the wallet entry's id; source says how it came ("claim",
// "grant" — the points mall's too — or "rule"). On PostgreSQL a concurrent issue to the
// same buyer aborts tx with a unique violation (the per-user limit's
// slot): the caller answers coupon_limit_reached or retries.
func (s *Service) IssueTx(ctx context.Context, tx *db.Tx, shopID, memberID, couponID int64, source string) (int64, error) {
	now := s.now()
	c, err := scanCoupon(tx.QueryRow(ctx, `SELECT `+couponColumns+` FROM coupons WHERE id = ? AND shop_id = ?`, couponID, shopID))
	if db.IsNoRows(err) {
		return 0, errCouponNotFound
	}
	if err != nil {
		return 0, err
	}
	if source == "claim" && !c.Claimable {
		return 0, errNotClaimable
	}
	if c.Disabled || (c.ValidUntil != nil && !now.Before(*c.ValidUntil)) {
		return 0, errCouponGone
	}
	var held int64
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM member_coupons WHERE coupon_id = ? AND member_id = ?`, couponID, memberID).Scan(&held); err != nil {
		return 0, err
	}
	if held >= c.PerUserLimit {
		return 0, errCouponLimit
	}
	if err := db.ExpectOne(tx.Exec(ctx, `UPDATE coupons SET issued = issued + 1, updated_at = ? WHERE id = ? AND shop_id = ? AND issued < total_quantity`,
		now.UnixMilli(), couponID, shopID)); err != nil {
		if db.IsNoRows(err) {
			return 0, errCouponGone
		}
		return 0, err
	}
	from, until := c.window(now)
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO member_coupons (shop_id, coupon_id, member_id, slot, source, status, valid_from, valid_until, created_at)
		VALUES (?, ?, ?, ?, ?, 'unused', ?, ?, ?) RETURNING id`, shopID, couponID, memberID, held+1, source,
		from.UnixMilli(), until.UnixMilli(), now.UnixMilli()).Scan(&id)
	return id, err
}

// window is when a copy issued now is valid.
func (c Coupon) window(now time.Time) (time.Time, time.Time) {
	if c.ValidDays > 0 {
		return now, now.Add(time.Duration(c.ValidDays) * 24 * time.Hour)
	}
	return *c.ValidFrom, *c.ValidUntil
}

// WalletCoupon is a coupon in a buyer's wallet.
type WalletCoupon struct {
	ID         int64     `json:"id" doc:"the member coupon id: send it as member_coupon_id at checkout"`
	CouponID   int64     `json:"coupon_id"`
	Name       string    `json:"name"`
	Kind       string    `json:"kind" enum:"amount,percent,shipping" doc:"amount (满减), percent (折扣) or shipping (包邮)"`
	Amount     int64     `json:"amount"`
	RateBP     int64     `json:"rate_bp"`
	Cap        int64     `json:"cap"`
	Threshold  int64     `json:"threshold"`
	Scope      string    `json:"scope" enum:"all,categories,products" doc:"all, categories or products"`
	ScopeIDs   []int64   `json:"scope_ids"`
	Source     string    `json:"source" enum:"claim,grant,rule" doc:"claim, grant or rule"`
	Status     string    `json:"status" enum:"unused,used" doc:"unused or used"`
	OrderID    *int64    `json:"order_id"`
	ValidFrom  time.Time `json:"valid_from"`
	ValidUntil time.Time `json:"valid_until"`
}

type walletCoupon = WalletCoupon

const walletColumns = `m.id, m.coupon_id, c.name, c.kind, c.amount, c.rate_bp, c.cap, c.threshold, c.scope, c.scope_ids,
	m.source, m.status, m.order_id, m.valid_from, m.valid_until`

func scanWallet(row db.Scanner) (WalletCoupon, error) {
	var w WalletCoupon
	var ids string
	var from, until int64
	err := row.Scan(&w.ID, &w.CouponID, &w.Name, &w.Kind, &w.Amount, &w.RateBP, &w.Cap, &w.Threshold, &w.Scope, &ids,
		&w.Source, &w.Status, &w.OrderID, &from, &until)
	_ = json.Unmarshal([]byte(ids), &w.ScopeIDs)
	w.ValidFrom, w.ValidUntil = time.UnixMilli(from).UTC(), time.UnixMilli(until).UTC()
	return w, err
}

// walletCoupon reads one coupon of the buyer's wallet; with a non-zero now
// it must be unused and valid at now.
func (s *Service) walletCoupon(ctx context.Context, q db.Querier, shopID, memberID, id int64, now time.Time) (WalletCoupon, error) {
	w, err := scanWallet(q.QueryRow(ctx, `SELECT `+walletColumns+` FROM member_coupons m JOIN coupons c ON c.id = m.coupon_id
		WHERE m.id = ? AND m.shop_id = ? AND m.member_id = ?`, id, shopID, memberID))
	if db.IsNoRows(err) {
		return w, errWalletNotFound
	}
	if err != nil {
		return w, errs.Wrap("wallet coupon", err)
	}
	if now.IsZero() {
		return w, nil
	}
	if w.Status != "unused" {
		return w, errCouponUsed
	}
	if now.Before(w.ValidFrom) || !now.Before(w.ValidUntil) {
		return w, errs.E(errs.Gone, "coupon_expired", "the coupon is not valid now")
	}
	return w, nil
}

// Wallet lists the buyer's coupons for checkout to price: unused first,
// soonest to expire first (the buyer's own list pages: WalletPage).
func (s *Service) Wallet(ctx context.Context, shopID, memberID int64) ([]WalletCoupon, error) {
	out, err := db.All(ctx, s.db, scanWallet, `SELECT `+walletColumns+` FROM member_coupons m JOIN coupons c ON c.id = m.coupon_id
		WHERE m.shop_id = ? AND m.member_id = ? ORDER BY m.status DESC, m.valid_until, m.id LIMIT 500`, shopID, memberID)
	return out, errs.Wrap("wallet", err)
}

// Coupons prices each of the buyer's usable coupons against lines and
// marks the best (largest saving; ties: the one expiring first).
func (s *Service) Coupons(ctx context.Context, shopID, memberID int64, lines []pricing.Line, ship pricing.Shipping, now time.Time) ([]order.CouponOption, error) {
	wallet, err := s.Wallet(ctx, shopID, memberID)
	if err != nil {
		return nil, err
	}
	base := pricing.Price(lines, nil, ship).Total
	out := []order.CouponOption{}
	for _, w := range wallet {
		if w.Status != "unused" || now.Before(w.ValidFrom) || !now.Before(w.ValidUntil) {
			continue
		}
		c := w.rule()
		r := pricing.Price(lines, &c, ship)
		out = append(out, order.CouponOption{ID: w.ID, Name: w.Name, Saving: base - r.Total, Applies: r.CouponApplies,
			ValidTo: w.ValidUntil.Format(time.RFC3339)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Saving > out[j].Saving }) // wallet order breaks ties
	if len(out) > 0 && out[0].Applies && out[0].Saving > 0 {
		out[0].Suggested = true
	}
	return out, nil
}

// CouponResults is how a coupon did.
type CouponResults struct {
	Coupon        Coupon `json:"coupon"`
	Used          int64  `json:"used" doc:"copies used by orders that are not cancelled"`
	Orders        int64  `json:"orders"`
	PaidOrders    int64  `json:"paid_orders"`
	Buyers        int64  `json:"buyers" doc:"distinct buyers with a paid order"`
	Discount      int64  `json:"discount" doc:"fen the coupon took off paid orders"`
	GMV           int64  `json:"gmv" doc:"paid minus refunded on those orders, fen"`
	RefundedTotal int64  `json:"refunded_total" doc:"fen"`
}

// CouponResults reports a coupon's orders, buyers, GMV and refunds.
func (s *Service) CouponResults(ctx context.Context, shopID, id int64) (CouponResults, error) {
	c, err := s.Coupon(ctx, shopID, id)
	if err != nil {
		return CouponResults{}, err
	}
	r := CouponResults{Coupon: c}
	err = s.db.QueryRow(ctx, `SELECT COUNT(*),
		COUNT(CASE WHEN o.paid_at IS NOT NULL THEN 1 END),
		COUNT(DISTINCT CASE WHEN o.paid_at IS NOT NULL THEN o.member_id END),
		COALESCE(SUM(CASE WHEN o.paid_at IS NOT NULL THEN o.discount_amount ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN o.paid_at IS NOT NULL THEN o.paid_amount - o.refunded_amount ELSE 0 END), 0),
		COALESCE(SUM(o.refunded_amount), 0)
		FROM member_coupons m JOIN orders o ON o.id = m.order_id
		WHERE m.coupon_id = ? AND m.shop_id = ? AND m.status = 'used'`, id, shopID).
		Scan(&r.Orders, &r.PaidOrders, &r.Buyers, &r.Discount, &r.GMV, &r.RefundedTotal)
	r.Used = r.Orders
	return r, errs.Wrap("coupon results", err)
}

// BirthdayCouponsKind gives birthday coupons (hourly; each once a year).
const BirthdayCouponsKind = "coupon.birthday"

var china = time.FixedZone("CST", 8*3600)

// GiveBirthdayCoupons gives every buyer whose birthday is today (China
// time) each of their shop's birthday coupons, once a year: the grant row
// (coupon, member, year) is inserted first and decides. It reports how
// many it gave.
func (s *Service) GiveBirthdayCoupons(ctx context.Context) (int, error) {
	today := s.now().In(china)
	type due struct{ shopID, memberID, couponID int64 }
	list, err := db.All(ctx, s.db, func(row db.Scanner) (due, error) {
		var d due
		return d, row.Scan(&d.shopID, &d.memberID, &d.couponID)
	}, `SELECT m.shop_id, m.id, c.id FROM members m
		JOIN coupons c ON c.shop_id = m.shop_id AND c.auto_rule = 'birthday' AND c.disabled_at IS NULL
		WHERE m.birthday = ? AND m.birthday <> ''
		AND NOT EXISTS (SELECT 1 FROM birthday_grants g WHERE g.coupon_id = c.id AND g.member_id = m.id AND g.year = ?)
		LIMIT 5000`, today.Format("01-02"), today.Year())
	if err != nil {
		return 0, err
	}
	given := 0
	for _, d := range list {
		res, err := s.db.Exec(ctx, `INSERT INTO birthday_grants (shop_id, coupon_id, member_id, year, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, d.shopID, d.couponID, d.memberID, today.Year(), s.now().UnixMilli())
		if err != nil {
			return given, err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue // another server gave it
		}
		if _, err := s.issue(ctx, d.shopID, d.memberID, d.couponID, "rule"); err != nil && errs.As(err).Kind == errs.Internal {
			return given, err
		} else if err == nil {
			given++
		}
	}
	return given, nil
}
