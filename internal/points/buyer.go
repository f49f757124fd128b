package points

import "time"

// BuyerPoints is a buyer's own points: the balance, what expires when, and
// the shop's rules as checkout applies them.
type BuyerPoints struct {
	Balance       int64      `json:"balance" doc:"points I hold now"`
	Earned        int64      `json:"earned" doc:"points I have ever earned"`
	Expiring      []Expiring `json:"expiring" doc:"what of my balance expires when, soonest first"`
	Enabled       bool       `json:"enabled" doc:"the shop gives points on purchases and takes them at checkout"`
	EarnPerYuan   int64      `json:"earn_per_yuan" doc:"points per yuan of goods, given when an order is received"`
	RedeemPerYuan int64      `json:"redeem_per_yuan" doc:"points that make one yuan at checkout"`
	RedeemCapBP   int64      `json:"redeem_cap_bp" doc:"points pay at most this share of the goods after the coupon, in basis points"`
}

// BuyerEntry is a line of the buyer's ledger (no staff member named).
type BuyerEntry struct {
	ID        int64      `json:"id"`
	Delta     int64      `json:"delta" doc:"points added (positive) or taken (negative)"`
	Kind      string     `json:"kind" enum:"earn,spend,return,clawback,expire,adjust,reward"`
	Reason    string     `json:"reason"`
	ExpiresAt *time.Time `json:"expires_at" doc:"when what is left of these points expires (points added only)"`
	CreatedAt time.Time  `json:"created_at"`
}

func (e Entry) forBuyer() BuyerEntry {
	b := BuyerEntry{ID: e.ID, Delta: e.Delta, Kind: e.Kind, Reason: e.Reason, CreatedAt: e.CreatedAt}
	if e.Delta > 0 {
		b.ExpiresAt = e.ExpiresAt
	}
	return b
}
