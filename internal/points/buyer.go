package points

import (
	"time"

	"github.com/kaidian/kaidian/internal/order"
)

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

// BuyerItem is a points-mall item as buyers see it.
type BuyerItem struct {
	ID             int64  `json:"id"`
	Kind           string `json:"kind" enum:"coupon,gift"`
	Title          string `json:"title"`
	Image          string `json:"image"`
	Points         int64  `json:"points" doc:"its price in points"`
	Stock          int64  `json:"stock" doc:"how many are left"`
	PerMemberLimit int64  `json:"per_member_limit" doc:"how many one buyer may redeem"`
}

func (it Item) forBuyer() BuyerItem {
	return BuyerItem{ID: it.ID, Kind: it.Kind, Title: it.Title, Image: it.Image, Points: it.Points, Stock: it.Stock, PerMemberLimit: it.PerMemberLimit}
}

// BuyerRedemption is one of the buyer's redemptions.
type BuyerRedemption struct {
	ID             int64          `json:"id"`
	ItemID         int64          `json:"item_id"`
	Title          string         `json:"title"`
	Kind           string         `json:"kind" enum:"coupon,gift"`
	Points         int64          `json:"points"`
	MemberCouponID int64          `json:"member_coupon_id,omitempty" doc:"the coupon put in my wallet (a coupon item)"`
	Status         string         `json:"status" enum:"redeemed,shipped,cancelled" doc:"redeemed (a gift waiting to ship), shipped (a coupon: in my wallet), cancelled (points given back)"`
	Address        *order.Address `json:"address"`
	Carrier        string         `json:"carrier"`
	TrackingNo     string         `json:"tracking_no"`
	CreatedAt      time.Time      `json:"created_at"`
}

func (r Redemption) forBuyer() BuyerRedemption {
	return BuyerRedemption{ID: r.ID, ItemID: r.ItemID, Title: r.Title, Kind: r.Kind, Points: r.Points, MemberCouponID: r.MemberCouponID,
		Status: r.Status, Address: r.Address, Carrier: r.Carrier, TrackingNo: r.TrackingNo, CreatedAt: r.CreatedAt}
}
