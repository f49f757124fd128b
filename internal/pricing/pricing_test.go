package pricing

import (
	"math/rand/v2"
	"testing"
)

func TestAllocateAddsUpAndFavoursLargestRemainders(t *testing.T) {
	got := Allocate(100, []int64{1, 1, 1})
	want := []int64{34, 33, 33}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Allocate(100, 1,1,1) = %v, want %v", got, want)
		}
	}
	got = Allocate(10, []int64{3000, 7000})
	if got[0] != 3 || got[1] != 7 {
		t.Fatalf("proportional split = %v, want [3 7]", got)
	}
	// 5 over 3,3,4: exact shares 1.5, 1.5, 2.0 → floors 1,1,2, the leftover
	// fen goes to the first of the tied remainders.
	got = Allocate(5, []int64{3, 3, 4})
	if got[0] != 2 || got[1] != 1 || got[2] != 2 {
		t.Fatalf("tie = %v, want [2 1 2]", got)
	}
}

func TestAllocateNeverExceedsWeightsAndAlwaysAddsUp(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 5000; n++ {
		w := make([]int64, 1+r.IntN(8))
		var sum int64
		for i := range w {
			w[i] = r.Int64N(1_000_000_000)
			sum += w[i]
		}
		if sum == 0 {
			continue
		}
		total := r.Int64N(sum + 1)
		shares := Allocate(total, w)
		var got int64
		for i, s := range shares {
			if s < 0 || s > w[i] {
				t.Fatalf("share %d of %d over weights %v = %v", i, total, w, shares)
			}
			got += s
		}
		if got != total {
			t.Fatalf("shares of %d over %v add to %d", total, w, got)
		}
	}
}

func TestPriceFullBreakdown(t *testing.T) {
	lines := []Line{
		{SPUID: 1, CategoryID: 10, ListPrice: 9900, UnitPrice: 7900, Quantity: 1, Promotion: "flash_sale"},
		{SPUID: 2, CategoryID: 20, ListPrice: 3000, UnitPrice: 3000, Quantity: 3},
	}
	c := &Coupon{Kind: CouponAmount, Amount: 2000, Threshold: 15000, Scope: ScopeAll}
	r := Price(lines, c, Shipping{Fee: 1000, FreeAbove: 20000})
	// goods 7900 + 9000 = 16900 ≥ 15000: 2000 off, split 7900:9000 →
	// 934.9… and 1065.0… → floors 934 and 1065, one fen left to the larger
	// remainder (line 1: 0.91 vs 0.08).
	if r.ListAmount != 18900 || r.PromoDiscount != 2000 || r.GoodsAmount != 16900 {
		t.Fatalf("goods = %+v", r)
	}
	if !r.CouponApplies || r.CouponDiscount != 2000 || r.Lines[0].CouponDiscount != 935 || r.Lines[1].CouponDiscount != 1065 {
		t.Fatalf("coupon = %+v", r)
	}
	// 14900 after the coupon is below the free-shipping threshold.
	if r.ShippingFee != 1000 || r.Total != 14900+1000 {
		t.Fatalf("shipping and total = %+v", r)
	}
	if r.Lines[0].Payable+r.Lines[1].Payable != r.GoodsAmount-r.CouponDiscount {
		t.Fatalf("line payables do not add up: %+v", r.Lines)
	}
}

func TestPercentCouponRoundsDownAndCaps(t *testing.T) {
	lines := []Line{{SPUID: 1, ListPrice: 999, UnitPrice: 999, Quantity: 1}}
	// 8.5折 on 999: 999 × 15% = 149.85 → 149 off.
	r := Price(lines, &Coupon{Kind: CouponPercent, RateBP: 8500, Scope: ScopeAll}, Shipping{})
	if r.CouponDiscount != 149 || r.Total != 850 {
		t.Fatalf("percent = %+v", r)
	}
	r = Price(lines, &Coupon{Kind: CouponPercent, RateBP: 5000, Cap: 300, Scope: ScopeAll}, Shipping{})
	if r.CouponDiscount != 300 {
		t.Fatalf("cap = %+v", r)
	}
}

func TestScopedCouponOnlyTouchesItsLines(t *testing.T) {
	lines := []Line{
		{SPUID: 1, CategoryID: 10, ListPrice: 5000, UnitPrice: 5000, Quantity: 1},
		{SPUID: 2, CategoryID: 20, ListPrice: 5000, UnitPrice: 5000, Quantity: 1},
	}
	c := &Coupon{Kind: CouponAmount, Amount: 1000, Threshold: 6000, Scope: ScopeCategories, IDs: []int64{10}}
	if r := Price(lines, c, Shipping{}); r.CouponApplies || r.CouponDiscount != 0 {
		t.Fatalf("threshold is on in-scope goods only (5000 < 6000): %+v", r)
	}
	c.Threshold = 5000
	r := Price(lines, c, Shipping{})
	if r.Lines[0].CouponDiscount != 1000 || r.Lines[1].CouponDiscount != 0 {
		t.Fatalf("scoped allocation = %+v", r.Lines)
	}
	c = &Coupon{Kind: CouponAmount, Amount: 9999, Scope: ScopeProducts, IDs: []int64{2}}
	if r := Price(lines, c, Shipping{}); r.CouponDiscount != 5000 || r.Lines[1].Payable != 0 {
		t.Fatalf("a coupon larger than its goods takes the goods, no more: %+v", r)
	}
}

func TestShippingRules(t *testing.T) {
	lines := []Line{{SPUID: 1, ListPrice: 5000, UnitPrice: 5000, Quantity: 1}}
	ship := Shipping{Fee: 800, FreeAbove: 5000}
	if r := Price(lines, nil, ship); r.ShippingFee != 0 || r.Total != 5000 {
		t.Fatalf("free above threshold: %+v", r)
	}
	// The coupon brings the goods under the free-shipping threshold.
	r := Price(lines, &Coupon{Kind: CouponAmount, Amount: 100, Scope: ScopeAll}, ship)
	if r.ShippingFee != 800 || r.Total != 4900+800 {
		t.Fatalf("threshold after coupon: %+v", r)
	}
	r = Price(lines, &Coupon{Kind: CouponShipping, Scope: ScopeAll}, Shipping{Fee: 800})
	if !r.CouponApplies || r.ShippingDiscount != 800 || r.Total != 5000 {
		t.Fatalf("free-shipping coupon: %+v", r)
	}
	if r := Price(lines, &Coupon{Kind: CouponShipping, Scope: ScopeAll}, Shipping{}); r.CouponApplies {
		t.Fatalf("a free-shipping coupon on a free delivery does not apply: %+v", r)
	}
}

// TestPriceIsNeverNegativeAndAddsUp: for any lines, coupon and shipping
// the total is at least 0 (an order is either payable or free, never
// owed to the buyer), and it is the lines' payables plus net shipping.
func TestPriceIsNeverNegativeAndAddsUp(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	kinds := []CouponKind{CouponAmount, CouponPercent, CouponShipping}
	for n := 0; n < 5000; n++ {
		lines := make([]Line, 1+r.IntN(5))
		for i := range lines {
			list := r.Int64N(100_000)
			lines[i] = Line{SPUID: int64(i + 1), CategoryID: int64(i%2 + 1), ListPrice: list, UnitPrice: r.Int64N(list + 1), Quantity: 1 + r.Int64N(5)}
		}
		c := &Coupon{Kind: kinds[r.IntN(3)], Amount: r.Int64N(1_000_000), RateBP: 100 + r.Int64N(9900), Cap: r.Int64N(50_000),
			Threshold: r.Int64N(200_000), Scope: ScopeAll}
		if r.IntN(2) == 0 {
			c.Scope, c.IDs = ScopeCategories, []int64{1}
		}
		res := Price(lines, c, Shipping{Fee: r.Int64N(2000), FreeAbove: r.Int64N(300_000)})
		var payable int64
		for _, l := range res.Lines {
			payable += l.Payable
			if l.Payable < 0 || l.CouponDiscount > l.Amount {
				t.Fatalf("line %+v", l)
			}
		}
		if res.Total < 0 || res.Total != payable+res.ShippingFee-res.ShippingDiscount || res.ShippingDiscount > res.ShippingFee {
			t.Fatalf("lines %+v coupon %+v: %+v", lines, c, res)
		}
	}
}

// TestFreightAddsToTheFlatFee: the templates' freight is added to the flat
// fee, the shop's threshold waives only the flat fee, and a free-shipping
// coupon removes both.
func TestFreightAddsToTheFlatFee(t *testing.T) {
	lines := []Line{{SPUID: 1, ListPrice: 5000, UnitPrice: 5000, Quantity: 2}}
	for _, c := range []struct {
		name   string
		ship   Shipping
		coupon *Coupon
		fee    int64
		off    int64
	}{
		{"freight only", Shipping{Freight: 1200}, nil, 1200, 0},
		{"flat and freight", Shipping{Fee: 800, Freight: 1200}, nil, 2000, 0},
		{"threshold waives the flat fee only", Shipping{Fee: 800, FreeAbove: 10000, Freight: 1200}, nil, 1200, 0},
		{"free-shipping coupon removes both", Shipping{Fee: 800, Freight: 1200}, &Coupon{Kind: CouponShipping, Scope: ScopeAll}, 2000, 2000},
	} {
		r := Price(lines, c.coupon, c.ship)
		if r.ShippingFee != c.fee || r.ShippingDiscount != c.off || r.Total != 10000+c.fee-c.off {
			t.Errorf("%s: shipping %d, discount %d, total %d; want %d, %d", c.name, r.ShippingFee, r.ShippingDiscount, r.Total, c.fee, c.off)
		}
	}
}

func TestPointsComeAfterTheCouponWithinTheCap(t *testing.T) {
	lines := []Line{
		{SPUID: 1, ListPrice: 6000, UnitPrice: 6000, Quantity: 1},
		{SPUID: 2, ListPrice: 4000, UnitPrice: 4000, Quantity: 1},
	}
	c := &Coupon{Kind: CouponAmount, Amount: 1000, Scope: ScopeAll}
	// 100 points = 1 yuan, at most 50% of the 9000 fen left after the coupon.
	r := PriceWithPoints(lines, c, Shipping{Fee: 800, FreeAbove: 9000}, Points{Want: 100000, PerYuan: 100, CapBP: 5000})
	if r.PointsMax != 4500 || r.PointsUsed != 4500 || r.PointsDiscount != 4500 {
		t.Fatalf("points max/used/discount = %d/%d/%d, want 4500 each", r.PointsMax, r.PointsUsed, r.PointsDiscount)
	}
	// Free shipping looks at the goods before points: 9000 ≥ 9000.
	if r.ShippingFee != 0 || r.Total != 4500 {
		t.Fatalf("shipping %d total %d, want 0 and 4500", r.ShippingFee, r.Total)
	}
	var shares, payable int64
	for _, l := range r.Lines {
		shares += l.PointsDiscount
		payable += l.Payable
		if l.Payable != l.Amount-l.CouponDiscount-l.PointsDiscount {
			t.Fatalf("line payable %d ≠ amount − coupon − points: %+v", l.Payable, l)
		}
	}
	if shares != 4500 || payable != 4500 || r.Lines[0].PointsDiscount != 2700 {
		t.Fatalf("points allocation %+v", r.Lines)
	}
}

func TestPointsNeverChargeForAFractionOfAFen(t *testing.T) {
	lines := []Line{{SPUID: 1, ListPrice: 1000, UnitPrice: 1000, Quantity: 1}}
	// 1000 points = 1 yuan: one point is a tenth of a fen.
	r := PriceWithPoints(lines, nil, Shipping{}, Points{Want: 15, PerYuan: 1000, CapBP: 10000})
	if r.PointsDiscount != 1 || r.PointsUsed != 10 || r.Total != 999 {
		t.Fatalf("15 points at 1000/yuan: discount %d used %d total %d, want 1, 10, 999", r.PointsDiscount, r.PointsUsed, r.Total)
	}
	// 10 points = 1 yuan: one point is 10 fen; the cap of 55 fen allows 5 points.
	r = PriceWithPoints(lines, nil, Shipping{}, Points{Want: 99, PerYuan: 10, CapBP: 550})
	if r.PointsMax != 5 || r.PointsUsed != 5 || r.PointsDiscount != 50 {
		t.Fatalf("cap 55 fen at 10/yuan: max %d used %d discount %d, want 5, 5, 50", r.PointsMax, r.PointsUsed, r.PointsDiscount)
	}
	if r := PriceWithPoints(lines, nil, Shipping{}, Points{Want: 5, PerYuan: 1000, CapBP: 10000}); r.PointsUsed != 0 || r.Total != 1000 {
		t.Fatalf("points worth less than a fen were charged: %+v", r)
	}
	if r := PriceWithPoints(lines, nil, Shipping{}, Points{Want: -5, PerYuan: 100, CapBP: 10000}); r.PointsUsed != 0 {
		t.Fatalf("negative points used: %+v", r)
	}
}

func TestPointsAddUpOnRandomCarts(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 3000; n++ {
		lines := make([]Line, 1+r.IntN(5))
		for i := range lines {
			p := 1 + r.Int64N(100000)
			lines[i] = Line{SPUID: int64(i), ListPrice: p, UnitPrice: p, Quantity: 1 + r.Int64N(5)}
		}
		p := Points{Want: r.Int64N(1_000_000), PerYuan: 1 + r.Int64N(2000), CapBP: r.Int64N(10001)}
		res := PriceWithPoints(lines, &Coupon{Kind: CouponPercent, RateBP: 9000, Scope: ScopeAll}, Shipping{Fee: 500}, p)
		var shares int64
		for _, l := range res.Lines {
			if l.Payable < 0 {
				t.Fatalf("negative line: %+v", res)
			}
			shares += l.PointsDiscount
		}
		capFen := (res.GoodsAmount - res.CouponDiscount) * p.CapBP / 10000
		if shares != res.PointsDiscount || res.PointsDiscount > capFen || res.PointsUsed > p.Want ||
			res.PointsDiscount != res.PointsUsed*100/p.PerYuan {
			t.Fatalf("points %+v with %+v: shares %d, cap %d", p, res, shares, capFen)
		}
		if res.Total != res.GoodsAmount-res.CouponDiscount-res.PointsDiscount+res.ShippingFee-res.ShippingDiscount {
			t.Fatalf("total does not add up: %+v", res)
		}
	}
}
