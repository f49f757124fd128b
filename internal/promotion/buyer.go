package promotion

import "time"

// The shapes buyers get. Each is its own type, not a staff type reused:
// what staff see of a promotion (how many coupons were issued, automatic
// rules, who decided a withdrawal) reaches a buyer only if it is added
// here on purpose.

// BuyerSale is a flash sale as buyers see it.
type BuyerSale struct {
	ID           int64     `json:"id"`
	SKUID        int64     `json:"sku_id"`
	Title        string    `json:"title"`
	Price        int64     `json:"price" doc:"sale price per unit, fen"`
	Quantity     int64     `json:"quantity" doc:"units on sale"`
	Remaining    int64     `json:"remaining" doc:"units buyers can still claim"`
	PerUserLimit int64     `json:"per_user_limit"`
	PayMinutes   int64     `json:"pay_minutes" doc:"a claim must be paid within this many minutes"`
	StartsAt     time.Time `json:"starts_at"`
	EndsAt       time.Time `json:"ends_at"`
}

func (sl Sale) forBuyer() BuyerSale {
	return BuyerSale{ID: sl.ID, SKUID: sl.SKUID, Title: sl.Title, Price: sl.Price, Quantity: sl.Quantity, Remaining: sl.Remaining,
		PerUserLimit: sl.PerUserLimit, PayMinutes: sl.PayMinutes, StartsAt: sl.StartsAt, EndsAt: sl.EndsAt}
}

// BuyerDeal is a group-buying deal as buyers see it.
type BuyerDeal struct {
	ID              int64     `json:"id"`
	SKUID           int64     `json:"sku_id"`
	Title           string    `json:"title"`
	Tiers           []Tier    `json:"tiers" doc:"sizes ascending, prices descending"`
	DurationMinutes int64     `json:"duration_minutes" doc:"how long a group has to fill up"`
	StartsAt        time.Time `json:"starts_at"`
	EndsAt          time.Time `json:"ends_at"`
}

func (d Deal) forBuyer() BuyerDeal {
	return BuyerDeal{ID: d.ID, SKUID: d.SKUID, Title: d.Title, Tiers: d.Tiers, DurationMinutes: d.DurationMinutes,
		StartsAt: d.StartsAt, EndsAt: d.EndsAt}
}

// BuyerTimedDiscount is a time-limited price as buyers see it.
type BuyerTimedDiscount struct {
	ID       int64     `json:"id"`
	SKUID    int64     `json:"sku_id"`
	Title    string    `json:"title"`
	Price    int64     `json:"price" doc:"fen, while it runs"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
}

func (t TimedDiscount) forBuyer() BuyerTimedDiscount {
	return BuyerTimedDiscount{ID: t.ID, SKUID: t.SKUID, Title: t.Title, Price: t.Price, StartsAt: t.StartsAt, EndsAt: t.EndsAt}
}

// BuyerCoupon is a coupon buyers may claim (the template; claiming puts a
// copy, with its own id, in the wallet).
type BuyerCoupon struct {
	ID           int64      `json:"id" doc:"claim with POST /api/v1/coupons/{id}/claim; check out with the wallet copy's id"`
	Name         string     `json:"name"`
	Kind         string     `json:"kind" enum:"amount,percent,shipping" doc:"amount (满减), percent (折扣) or shipping (包邮)"`
	Amount       int64      `json:"amount" doc:"fen off (amount)"`
	RateBP       int64      `json:"rate_bp" doc:"basis points the buyer pays (percent): 8000 = 8折"`
	Cap          int64      `json:"cap" doc:"most fen off (percent); 0 = no cap"`
	Threshold    int64      `json:"threshold" doc:"in-scope goods must reach this many fen"`
	Scope        string     `json:"scope" enum:"all,categories,products" doc:"all, categories or products"`
	ScopeIDs     []int64    `json:"scope_ids"`
	ValidFrom    *time.Time `json:"valid_from"`
	ValidUntil   *time.Time `json:"valid_until"`
	ValidDays    int64      `json:"valid_days" doc:"valid for this many days after claiming (instead of a window)"`
	PerUserLimit int64      `json:"per_user_limit"`
}

func (c Coupon) forBuyer() BuyerCoupon {
	return BuyerCoupon{ID: c.ID, Name: c.Name, Kind: c.Kind, Amount: c.Amount, RateBP: c.RateBP, Cap: c.Cap, Threshold: c.Threshold,
		Scope: c.Scope, ScopeIDs: c.ScopeIDs, ValidFrom: c.ValidFrom, ValidUntil: c.ValidUntil, ValidDays: c.ValidDays,
		PerUserLimit: c.PerUserLimit}
}

// BuyerWithdrawal is a promoter's own withdrawal (without who decided it).
type BuyerWithdrawal struct {
	ID         int64     `json:"id"`
	Amount     int64     `json:"amount" doc:"fen"`
	Status     string    `json:"status" enum:"requested,approved,rejected,paid" doc:"requested, approved, rejected or paid"`
	Note       string    `json:"note" doc:"the shop's note on its decision"`
	Reference  string    `json:"reference" doc:"the payout's reference"`
	CreatedAt  time.Time `json:"created_at"`
	OwedOffset int64     `json:"owed_offset" doc:"fen of it that pays back commissions clawed back after refunds"`
	Payable    int64     `json:"payable" doc:"fen transferred to you: amount − owed_offset"`
}

func (w Withdrawal) forBuyer() BuyerWithdrawal {
	return BuyerWithdrawal{ID: w.ID, Amount: w.Amount, Status: w.Status, Note: w.Note, Reference: w.Reference, CreatedAt: w.CreatedAt,
		OwedOffset: w.OwedOffset, Payable: w.Payable}
}

// forBuyers maps a list to its buyer shape.
func forBuyers[T, B any](list []T, err error, view func(T) B) ([]B, error) {
	if err != nil {
		return nil, err
	}
	out := make([]B, len(list))
	for i, x := range list {
		out[i] = view(x)
	}
	return out, nil
}

// BuyerPromoter is my promoter account: its id (for share links) and
// balances, without my member id or who recruited me.
type BuyerPromoter struct {
	ID          int64     `json:"id" doc:"put it in share links: the visitor binds with POST /api/v1/referrals"`
	Frozen      int64     `json:"frozen" doc:"fen waiting for the after-sales window"`
	Available   int64     `json:"available" doc:"fen that may be withdrawn"`
	Withdrawing int64     `json:"withdrawing" doc:"fen asked for, not yet paid out"`
	PaidOut     int64     `json:"paid_out"`
	Owed        int64     `json:"owed" doc:"fen of commissions clawed back after refunds that the available balance could not cover; taken from the next commissions that settle"`
	CreatedAt   time.Time `json:"created_at"`
}

func (p Promoter) forBuyer() BuyerPromoter {
	return BuyerPromoter{ID: p.ID, Frozen: p.Frozen, Available: p.Available, Withdrawing: p.Withdrawing,
		PaidOut: p.PaidOut, Owed: p.Owed, CreatedAt: p.CreatedAt}
}

// BuyerCommission is one of my commissions. It leaves out the order it
// came from: that order is another buyer's.
type BuyerCommission struct {
	ID         int64     `json:"id"`
	Level      int64     `json:"level" doc:"1: my own referral; 2: a referral of a promoter I recruited"`
	Base       int64     `json:"base_amount" doc:"goods paid, fen"`
	Amount     int64     `json:"amount" doc:"fen (final once settled)"`
	ClawedBack int64     `json:"clawed_back" doc:"fen taken back after the order was refunded later"`
	Status     string    `json:"status" enum:"frozen,settled,reversed" doc:"frozen, settled or reversed"`
	CreatedAt  time.Time `json:"created_at"`
}

func buyerCommissions(rows []Commission) []BuyerCommission {
	out := make([]BuyerCommission, len(rows))
	for i, c := range rows {
		out[i] = BuyerCommission{ID: c.ID, Level: c.Level, Base: c.Base, Amount: c.Amount, ClawedBack: c.ClawedBack,
			Status: c.Status, CreatedAt: c.CreatedAt}
	}
	return out
}
