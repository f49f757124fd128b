package contentsale

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/secretbox"
)

// fakeOffers prices a few targets.
type fakeOffers map[string]Offer

func (f fakeOffers) Offer(_ context.Context, _, _ int64, kind string, id int64) (Offer, error) {
	of, ok := f[fmt.Sprintf("%s:%d", kind, id)]
	if !ok {
		return Offer{}, errs.E(errs.NotFound, "target_not_found", "no such content")
	}
	return of, nil
}

// fakeRights records grants and revocations by ref (the content room's
// contract: a ref grants once).
type fakeRights struct {
	mu      sync.Mutex
	grants  map[string]Grant
	revoked map[string]string
}

func (f *fakeRights) GrantTx(_ context.Context, _ *db.Tx, g Grant) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.grants[g.SourceRef]; ok {
		return false, nil
	}
	f.grants[g.SourceRef] = g
	return true, nil
}

func (f *fakeRights) RevokeTx(_ context.Context, _ *db.Tx, _ int64, ref, reason, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.grants[ref]; !ok {
		return errs.E(errs.NotFound, "entitlement_not_found", "no such entitlement")
	}
	f.revoked[ref] = reason
	return nil
}

func (f *fakeRights) count() (grants, revoked int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.grants), len(f.revoked)
}

// fakePay is WeChat's xpay as the tests script it.
type fakePay struct {
	mu        sync.Mutex
	orders    map[string]PayOrder
	queryErr  error
	refundErr []error // answers of the next refunds, in order (nil: accepted)
	refunds   []RefundRequest
	provided  []string
}

func (p *fakePay) Sign(r PayRequest, k Keys, sessionKey string) (PayParams, error) {
	return PayParams{Mode: "short_series_goods", SignData: r.OutTradeNo, PaySig: "pay:" + k.SandboxAppKey, Signature: "user:" + sessionKey}, nil
}

func (p *fakePay) Query(_ context.Context, _ int64, _ Keys, _ int, _, outTradeNo string) (PayOrder, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.queryErr != nil {
		return PayOrder{}, p.queryErr
	}
	return p.orders[outTradeNo], nil
}

func (p *fakePay) Refund(_ context.Context, _ int64, _ Keys, r RefundRequest) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refunds = append(p.refunds, r)
	if len(p.refundErr) == 0 {
		return nil
	}
	err := p.refundErr[0]
	p.refundErr = p.refundErr[1:]
	return err
}

func (p *fakePay) Provided(_ context.Context, _ int64, _ Keys, _ int, outTradeNo string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.provided = append(p.provided, outTradeNo)
	return nil
}

func (p *fakePay) setPaid(outTradeNo string, fee int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.orders[outTradeNo] = PayOrder{Found: true, Status: 2, PaidFee: fee, WxOrderID: "wx" + outTradeNo}
}

func (p *fakePay) setStatus(outTradeNo string, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	o := p.orders[outTradeNo]
	o.Status = status
	p.orders[outTradeNo] = o
}

type fixture struct {
	d                       *db.DB
	s                       *Service
	rights                  *fakeRights
	pay                     *fakePay
	used                    int // what fakeConsumption answers
	shop, other             int64
	buyer, friend, stranger int64
	clock                   time.Time
}

func (f *fixture) Consumed(context.Context, int64, int64, string, int64) (int, error) {
	return f.used, nil
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	box, err := secretbox.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{d: d, rights: &fakeRights{grants: map[string]Grant{}, revoked: map[string]string{}},
		pay: &fakePay{orders: map[string]PayOrder{}}, clock: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	offers := fakeOffers{
		"course:1": {TargetKind: KindCourse, TargetID: 1, Title: "写作课", ListFen: 9900, PriceFen: 9900},
		"plan:2":   {TargetKind: KindPlan, TargetID: 2, Title: "年度会员", ListFen: 19900, PriceFen: 19900, Days: 365},
		"course:3": {TargetKind: KindCourse, TargetID: 3, Title: "一分钱课", ListFen: 1, PriceFen: 1},
		"course:4": {TargetKind: KindCourse, TargetID: 4, Title: "免费课"},
	}
	f.s = NewService(d, box, offers, f.rights, f.pay, f, nil)
	f.s.SetClock(func() time.Time { return f.clock })
	f.shop, f.other = db.TestShop(t, d, "wx00000000000000c1"), db.TestShop(t, d, "wx00000000000000c2")
	f.buyer, f.friend = db.TestMember(t, d, f.shop, "buyer"), db.TestMember(t, d, f.shop, "friend")
	f.stranger = db.TestMember(t, d, f.other, "stranger")
	for _, shop := range []int64{f.shop, f.other} {
		if _, err := f.s.SaveSettings(ctx, shop, Settings{OfferID: "1450000001", SandboxAppKey: "sandbox-key", Env: 1, RefundDays: 3, RefundMaxConsumed: 20}); err != nil {
			t.Fatal(err)
		}
		for _, it := range []Item{{ItemID: "tier_9900", PriceFen: 9900, Name: "99元档"}, {ItemID: "tier_19900", PriceFen: 19900, Name: "199元档"}, {ItemID: "tier_1", PriceFen: 1, Name: "1分档"}} {
			if _, err := f.s.AddItem(ctx, shop, it); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, m := range []struct{ shop, id int64 }{{f.shop, f.buyer}, {f.shop, f.friend}, {f.other, f.stranger}} {
		if err := f.s.SaveSessionKey(ctx, m.shop, m.id, "c2Vzc2lvbmtleQ=="); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) buy(t *testing.T, memberID int64, kind string, id int64, gift bool) BuyerOrder {
	t.Helper()
	out, err := f.s.Create(context.Background(), f.shop, memberID, CreateInput{Items: []CartItem{{Kind: kind, ID: id}}, Gift: gift, Platform: "android"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Payment.Signature != "user:c2Vzc2lvbmtleQ==" || out.Payment.PaySig != "pay:sandbox-key" {
		t.Fatalf("payment signed with the wrong keys: %+v", out.Payment)
	}
	return out.Order
}

// paid buys a course and has WeChat deliver it.
func (f *fixture) paid(t *testing.T, memberID int64, gift bool) BuyerOrder {
	t.Helper()
	o := f.buy(t, memberID, KindCourse, 1, gift)
	f.pay.setPaid(o.OutTradeNo, o.PriceFen)
	if err := f.s.Delivered(context.Background(), f.shop, DeliverNotice{OutTradeNo: o.OutTradeNo, ProductID: "tier_9900"}); err != nil {
		t.Fatal(err)
	}
	return o
}

func (f *fixture) state(t *testing.T, id int64) Order {
	t.Helper()
	o, err := f.s.order(context.Background(), f.d, f.shop, id)
	if err != nil {
		t.Fatal(err)
	}
	return o.Order
}

func (f *fixture) events(t *testing.T, id int64, kind string) int {
	t.Helper()
	var n int
	if err := f.d.QueryRow(context.Background(), `SELECT COUNT(*) FROM content_order_events WHERE shop_id = ? AND order_id = ? AND kind = ?`,
		f.shop, id, kind).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if !errs.Is(err, code) {
		t.Fatalf("want %s, got %v", code, err)
	}
}

func TestAPushGrantsOnlyWhatWeChatShowsPaid(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		o := f.buy(t, f.buyer, KindCourse, 1, false)
		push := DeliverNotice{OutTradeNo: o.OutTradeNo, ProductID: "tier_9900"}
		wantCode(t, f.s.Delivered(ctx, f.shop, push), "xpay_not_paid")
		if g, _ := f.rights.count(); g != 0 {
			t.Fatal("a push for an order WeChat does not show paid granted access")
		}
		f.pay.setPaid(o.OutTradeNo, o.PriceFen)
		var wg sync.WaitGroup
		errCh := make(chan error, 10)
		for range 10 { // the same push delivered 10 times, at once
			wg.Add(1)
			go func() { defer wg.Done(); errCh <- f.s.Delivered(ctx, f.shop, push) }()
		}
		wg.Wait()
		close(errCh)
		for err := range errCh {
			if err != nil {
				t.Fatalf("a repeated push must be answered as done: %v", err)
			}
		}
		if g, _ := f.rights.count(); g != 1 {
			t.Fatalf("10 pushes made %d grants", g)
		}
		g := f.rights.grants["xorder:"+fmt.Sprint(o.ID)]
		if g.MemberID != f.buyer || g.TargetKind != KindCourse || g.TargetID != 1 || g.Source != "purchase" {
			t.Fatalf("wrong grant: %+v", g)
		}
		if st := f.state(t, o.ID); st.State != StatePaid || st.PaidFen != 9900 || st.PaidAt == nil {
			t.Fatalf("order after pushes: %+v", st)
		}
		if n := f.events(t, o.ID, "paid"); n != 1 {
			t.Fatalf("%d paid events", n)
		}
		wantCode(t, f.s.Delivered(ctx, f.shop, DeliverNotice{OutTradeNo: "kcnosuchorder00000000000"}), "content_order_not_found")
		wantCode(t, f.s.Delivered(ctx, f.other, push), "content_order_not_found") // another shop's push
	})
}

func TestAPushForAnotherItemOrAmountGrantsNothing(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		o := f.buy(t, f.buyer, KindCourse, 1, false)
		f.pay.setPaid(o.OutTradeNo, o.PriceFen)
		wantCode(t, f.s.Delivered(ctx, f.shop, DeliverNotice{OutTradeNo: o.OutTradeNo, ProductID: "tier_1"}), "xpay_push_mismatch")
		f.pay.setPaid(o.OutTradeNo, 1) // WeChat shows 1 fen paid for a ¥99 order
		wantCode(t, f.s.Delivered(ctx, f.shop, DeliverNotice{OutTradeNo: o.OutTradeNo}), "xpay_amount_mismatch")
		if g, _ := f.rights.count(); g != 0 || f.state(t, o.ID).State != StateCreated {
			t.Fatal("a mismatched payment granted access")
		}
	})
}

func TestALostPushIsFoundByTheCheck(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		o := f.buy(t, f.buyer, KindPlan, 2, false)
		f.pay.setPaid(o.OutTradeNo, o.PriceFen)
		if n, err := f.s.CheckDue(ctx, 100); err != nil || n != 0 {
			t.Fatalf("checked %d before due: %v", n, err)
		}
		f.clock = f.clock.Add(3 * time.Minute)
		if n, err := f.s.CheckDue(ctx, 100); err != nil || n != 1 {
			t.Fatalf("checked %d: %v", n, err)
		}
		if st := f.state(t, o.ID); st.State != StatePaid {
			t.Fatalf("state %s", st.State)
		}
		if g := f.rights.grants["xorder:"+fmt.Sprint(o.ID)]; g.Days != 365 || g.TargetKind != KindPlan {
			t.Fatalf("grant %+v", g)
		}
		if len(f.pay.provided) != 1 || f.pay.provided[0] != o.OutTradeNo {
			t.Fatalf("WeChat was not told the order was delivered: %v", f.pay.provided)
		}
		// The push arriving late changes nothing.
		if err := f.s.Delivered(ctx, f.shop, DeliverNotice{OutTradeNo: o.OutTradeNo}); err != nil {
			t.Fatal(err)
		}
		if g, _ := f.rights.count(); g != 1 {
			t.Fatalf("%d grants", g)
		}
	})
}

func TestAnUnknownAnswerNeverClosesAnOrder(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		o := f.buy(t, f.buyer, KindCourse, 1, false)
		f.pay.queryErr = errors.New("timeout")
		wantCode(t, f.s.Delivered(ctx, f.shop, DeliverNotice{OutTradeNo: o.OutTradeNo}), "xpay_unavailable")
		for range 8 { // 5 hours of checks with WeChat unreachable
			f.clock = f.clock.Add(40 * time.Minute)
			if _, err := f.s.CheckDue(ctx, 100); err != nil {
				t.Fatal(err)
			}
		}
		if st := f.state(t, o.ID); st.State != StateCreated {
			t.Fatalf("an order WeChat could not be asked about became %s", st.State)
		}
		// WeChat answers: never paid. Closed.
		f.pay.queryErr = nil
		f.clock = f.clock.Add(2 * time.Hour)
		if _, err := f.s.CheckDue(ctx, 100); err != nil {
			t.Fatal(err)
		}
		if st := f.state(t, o.ID); st.State != StateClosed {
			t.Fatalf("state %s, want closed", st.State)
		}
		// A late payment of a closed order still grants.
		f.pay.setPaid(o.OutTradeNo, o.PriceFen)
		if err := f.s.Delivered(ctx, f.shop, DeliverNotice{OutTradeNo: o.OutTradeNo}); err != nil {
			t.Fatal(err)
		}
		if st := f.state(t, o.ID); st.State != StatePaid {
			t.Fatalf("late payment: state %s", st.State)
		}
	})
}

func TestCheckoutRefusals(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		create := func(member int64, in CreateInput) error {
			_, err := f.s.Create(ctx, f.shop, member, in)
			return err
		}
		one := func(kind string, id int64) []CartItem { return []CartItem{{Kind: kind, ID: id}} }
		wantCode(t, create(f.buyer, CreateInput{Items: []CartItem{{Kind: "sku", ID: 5}, {Kind: KindCourse, ID: 1}}}), "mixed_cart")
		wantCode(t, create(f.buyer, CreateInput{Items: one("sku", 5)}), "goods_not_content")
		wantCode(t, create(f.buyer, CreateInput{Items: []CartItem{{Kind: KindCourse, ID: 1}, {Kind: KindPlan, ID: 2}}}), "one_item_per_payment")
		wantCode(t, create(f.buyer, CreateInput{}), "one_item_per_payment")
		wantCode(t, create(f.buyer, CreateInput{Items: one("ebook", 1)}), "invalid_item_kind")
		wantCode(t, create(f.buyer, CreateInput{Items: one(KindCourse, -1)}), "invalid_id")
		wantCode(t, create(f.buyer, CreateInput{Items: one(KindCourse, 99)}), "target_not_found")
		wantCode(t, create(f.buyer, CreateInput{Items: one(KindCourse, 4)}), "content_is_free")
		wantCode(t, create(f.buyer, CreateInput{Items: one(KindCourse, 3), Platform: "ios"}), "ios_minimum_price")
		if _, err := f.s.Create(ctx, f.shop, f.buyer, CreateInput{Items: one(KindCourse, 3), Platform: "android"}); err != nil {
			t.Fatalf("1 fen on Android is allowed: %v", err)
		}
		if err := f.s.DeleteItem(ctx, f.shop, "tier_19900"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, create(f.buyer, CreateInput{Items: one(KindPlan, 2)}), "xpay_item_missing")
		wantCode(t, f.s.DeleteItem(ctx, f.shop, "tier_1"), "xpay_item_used")
		noKey := db.TestMember(t, d, f.shop, "nokey")
		wantCode(t, create(noKey, CreateInput{Items: one(KindCourse, 1)}), "session_key_missing")
		if _, err := f.s.SaveSettings(ctx, f.shop, Settings{OfferID: "1450000001", Env: 0, RefundDays: 3}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, create(f.buyer, CreateInput{Items: one(KindCourse, 1)}), "xpay_not_configured") // production key never set
		var n int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM content_orders WHERE shop_id = ?`, f.shop).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d orders after refusals (want the one 1-fen order): %v", n, err)
		}
	})
}

func TestSettingsKeepKeysSealedAndMasked(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		st, err := f.s.SaveSettings(ctx, f.shop, Settings{OfferID: "1450000001", AppKey: "prod-key-abcd", Env: 0, RefundDays: 7, RefundMaxConsumed: 10})
		if err != nil {
			t.Fatal(err)
		}
		if st.AppKey != "****abcd" || st.SandboxAppKey != "****-key" || !st.Configured {
			t.Fatalf("settings read back %+v", st)
		}
		var stored string
		if err := d.QueryRow(ctx, `SELECT app_key FROM content_sale_settings WHERE shop_id = ?`, f.shop).Scan(&stored); err != nil || stored == "prod-key-abcd" {
			t.Fatalf("the AppKey is stored in clear (%q, %v)", stored, err)
		}
		// Sending the masked value back keeps the key.
		if _, err := f.s.SaveSettings(ctx, f.shop, Settings{OfferID: "1450000001", AppKey: "****abcd", Env: 0, RefundDays: 7}); err != nil {
			t.Fatal(err)
		}
		full, err := f.s.storedSettings(ctx, d, f.shop)
		if err != nil || full.keys.AppKey != "prod-key-abcd" {
			t.Fatalf("key after a masked save: %q %v", full.keys.AppKey, err)
		}
		for _, bad := range []Settings{{Env: 2}, {RefundDays: 31}, {RefundMaxConsumed: 101}, {OfferID: "a b"}, {AppKey: "with space"}} {
			if _, err := f.s.SaveSettings(ctx, f.shop, bad); errs.As(err) == nil || errs.As(err).Kind != errs.Invalid {
				t.Fatalf("%+v: want a 400, got %v", bad, err)
			}
		}
	})
}

func TestBuyerRefundInTheWindowEndsAccessWhenWeChatAccepts(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		o := f.paid(t, f.buyer, false)
		_, err := f.s.BuyerRefund(ctx, f.shop, f.friend, o.ID, RefundInput{Reason: "r"})
		wantCode(t, err, "content_order_not_found") // not theirs
		_, err = f.s.BuyerRefund(ctx, f.shop, f.buyer, o.ID, RefundInput{})
		wantCode(t, err, "invalid_reason")
		got, err := f.s.BuyerRefund(ctx, f.shop, f.buyer, o.ID, RefundInput{Reason: "不想学了"})
		if err != nil {
			t.Fatal(err)
		}
		if got.State != StateRefunding || got.RevokedAt == nil {
			t.Fatalf("after WeChat accepted: %+v", got)
		}
		if _, r := f.rights.count(); r != 1 {
			t.Fatal("access not ended when WeChat accepted the refund")
		}
		rq := f.pay.refunds[0]
		if rq.RefundFee != 9900 || rq.LeftFee != 9900 || rq.OutTradeNo != o.OutTradeNo || rq.ReqFrom != fromBuyer || rq.OpenID != "buyer" {
			t.Fatalf("refund asked %+v", rq)
		}
		_, err = f.s.BuyerRefund(ctx, f.shop, f.buyer, o.ID, RefundInput{Reason: "again"})
		wantCode(t, err, "content_order_not_refundable")
		// WeChat's push settles it; a stale or repeated push changes nothing.
		if err := f.s.RefundNotified(ctx, f.shop, RefundNotice{MchRefundID: "kr-other", MchOrderID: o.OutTradeNo}); err != nil {
			t.Fatal(err)
		}
		if st := f.state(t, o.ID); st.State != StateRefunding {
			t.Fatalf("a push for another refund number moved the order to %s", st.State)
		}
		for range 3 {
			if err := f.s.RefundNotified(ctx, f.shop, RefundNotice{MchRefundID: rq.RefundNo, MchOrderID: o.OutTradeNo}); err != nil {
				t.Fatal(err)
			}
		}
		if st := f.state(t, o.ID); st.State != StateRefunded || st.RefundedAt == nil {
			t.Fatalf("after the push: %+v", st)
		}
		if n := f.events(t, o.ID, "refunded"); n != 1 {
			t.Fatalf("%d refunded events", n)
		}
	})
}

func TestRefundRules(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		o := f.paid(t, f.buyer, false)
		f.used = 21
		_, err := f.s.BuyerRefund(ctx, f.shop, f.buyer, o.ID, RefundInput{Reason: "r"})
		wantCode(t, err, "refund_too_much_used")
		f.used = 0
		f.clock = f.clock.Add(73 * time.Hour)
		_, err = f.s.BuyerRefund(ctx, f.shop, f.buyer, o.ID, RefundInput{Reason: "r"})
		wantCode(t, err, "refund_window_closed")
		if len(f.pay.refunds) != 0 {
			t.Fatal("a refused refund reached WeChat")
		}
		// Staff may refund outside the window.
		if got, err := f.s.StaffRefund(ctx, f.shop, 7, o.ID, RefundInput{Reason: "客服同意"}); err != nil || got.State != StateRefunding {
			t.Fatalf("staff refund: %+v %v", got, err)
		}
		// iOS: Apple decides.
		ios, err := f.s.Create(ctx, f.shop, f.buyer, CreateInput{Items: []CartItem{{Kind: KindCourse, ID: 1}}, Platform: "ios"})
		if err != nil {
			t.Fatal(err)
		}
		f.pay.setPaid(ios.Order.OutTradeNo, 9900)
		if err := f.s.Delivered(ctx, f.shop, DeliverNotice{OutTradeNo: ios.Order.OutTradeNo}); err != nil {
			t.Fatal(err)
		}
		_, err = f.s.BuyerRefund(ctx, f.shop, f.buyer, ios.Order.ID, RefundInput{Reason: "r"})
		wantCode(t, err, "ios_refund_by_apple")
		_, err = f.s.StaffRefund(ctx, f.shop, 7, ios.Order.ID, RefundInput{Reason: "r"})
		wantCode(t, err, "ios_refund_by_apple")
	})
}

func TestARefundWithAnUnknownAnswerIsAskedAgainWithTheSameNumber(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		o := f.paid(t, f.buyer, false)
		f.pay.refundErr = []error{errors.New("timeout"), errors.New("busy")}
		got, err := f.s.BuyerRefund(ctx, f.shop, f.buyer, o.ID, RefundInput{Reason: "r"})
		if err != nil || got.State != StateRefunding || got.RevokedAt != nil {
			t.Fatalf("unknown answer: %+v %v (access must stay until WeChat accepts)", got, err)
		}
		for range 2 {
			f.clock = f.clock.Add(6 * time.Minute)
			if _, err := f.s.CheckDue(ctx, 100); err != nil {
				t.Fatal(err)
			}
		}
		if len(f.pay.refunds) != 3 || f.pay.refunds[0].RefundNo != f.pay.refunds[2].RefundNo {
			t.Fatalf("refund asks: %+v", f.pay.refunds)
		}
		if st := f.state(t, o.ID); st.RevokedAt == nil {
			t.Fatal("access not ended once WeChat accepted")
		}
		// Then query_order shows it refunded.
		f.pay.setStatus(o.OutTradeNo, 5)
		f.clock = f.clock.Add(6 * time.Minute)
		if _, err := f.s.CheckDue(ctx, 100); err != nil {
			t.Fatal(err)
		}
		if st := f.state(t, o.ID); st.State != StateRefunded {
			t.Fatalf("state %s", st.State)
		}
		if _, r := f.rights.count(); r != 1 {
			t.Fatalf("%d revocations", r)
		}
	})
}

func TestARefusedRefundKeepsAccessAndStaffMayRetry(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		o := f.paid(t, f.buyer, false)
		f.pay.refundErr = []error{fmt.Errorf("268490002 parameter: %w", ErrRefused)}
		got, err := f.s.BuyerRefund(ctx, f.shop, f.buyer, o.ID, RefundInput{Reason: "r"})
		if err != nil || got.State != StateRefundFailed || got.RevokedAt != nil || got.RefundError == "" {
			t.Fatalf("refused refund: %+v %v", got, err)
		}
		if _, r := f.rights.count(); r != 0 {
			t.Fatal("a refused refund ended access")
		}
		_, err = f.s.BuyerRefund(ctx, f.shop, f.buyer, o.ID, RefundInput{Reason: "r"})
		wantCode(t, err, "content_order_not_refundable")
		got, err = f.s.StaffRefund(ctx, f.shop, 7, o.ID, RefundInput{Reason: "retry"})
		if err != nil || got.State != StateRefunding || got.RevokedAt == nil || got.RefundNo == f.pay.refunds[0].RefundNo {
			t.Fatalf("staff retry: %+v %v", got, err)
		}
		// A failure WeChat reports afterwards is recorded for staff.
		if err := f.s.RefundNotified(ctx, f.shop, RefundNotice{MchRefundID: got.RefundNo, MchOrderID: o.OutTradeNo, RetCode: 1, RetMsg: "余额不足"}); err != nil {
			t.Fatal(err)
		}
		if st := f.state(t, o.ID); st.State != StateRefundFailed {
			t.Fatalf("state %s", st.State)
		}
	})
}

func TestGifts(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		o := f.paid(t, f.buyer, true)
		if g, _ := f.rights.count(); g != 0 {
			t.Fatal("a gift granted access to its buyer")
		}
		gifts, err := f.s.MyGifts(ctx, f.shop, f.buyer, 0, 10)
		if err != nil || len(gifts) != 1 || gifts[0].Code == "" || gifts[0].State != "open" {
			t.Fatalf("my gifts: %+v %v", gifts, err)
		}
		code := gifts[0].Code
		if _, err := f.s.ClaimGift(ctx, f.other, f.stranger, code); !errs.Is(err, "gift_not_found") {
			t.Fatalf("another shop's member claimed: %v", err)
		}
		_, err = f.s.ClaimGift(ctx, f.shop, f.buyer, code)
		wantCode(t, err, "own_gift")
		// Ten friends race for it: one gets it.
		var wg sync.WaitGroup
		wins := make(chan int64, 10)
		for i := range 10 {
			m := f.friend
			if i > 0 {
				m = db.TestMember(t, d, f.shop, fmt.Sprintf("f%d", i))
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := f.s.ClaimGift(ctx, f.shop, m, code); err == nil {
					wins <- m
				} else if !errs.Is(err, "gift_claimed") {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		close(wins)
		if len(wins) != 1 {
			t.Fatalf("%d claims won", len(wins))
		}
		winner := <-wins
		grant := f.rights.grants["gift:"+fmt.Sprint(gifts[0].ID)]
		if grant.MemberID != winner || grant.Source != "gift" || grant.TargetID != 1 {
			t.Fatalf("gift grant %+v", grant)
		}
		_, err = f.s.BuyerRefund(ctx, f.shop, f.buyer, o.ID, RefundInput{Reason: "r"})
		wantCode(t, err, "gift_claimed")
		if st := f.state(t, o.ID); st.State != StatePaid {
			t.Fatalf("a refused gift refund left the order %s", st.State)
		}
		// An unclaimed gift refunded cannot be claimed.
		o2 := f.paid(t, f.buyer, true)
		gifts, _ = f.s.MyGifts(ctx, f.shop, f.buyer, 0, 10)
		if _, err := f.s.BuyerRefund(ctx, f.shop, f.buyer, o2.ID, RefundInput{Reason: "r"}); err != nil {
			t.Fatal(err)
		}
		_, err = f.s.ClaimGift(ctx, f.shop, f.friend, gifts[0].Code)
		wantCode(t, err, "gift_refunded")
		if gifts, _ = f.s.MyGifts(ctx, f.shop, f.buyer, 0, 10); gifts[0].State != "refunded" {
			t.Fatalf("gift state %s", gifts[0].State)
		}
	})
}

func TestATrialIsGivenOnce(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		_, err := f.s.StartTrial(ctx, f.shop, f.buyer, 2)
		wantCode(t, err, "trial_not_offered")
		if _, err := f.s.SetTrial(ctx, f.shop, Trial{PlanID: 2, Days: 7}); err != nil {
			t.Fatal(err)
		}
		_, err = f.s.SetTrial(ctx, f.shop, Trial{PlanID: 99, Days: 7})
		wantCode(t, err, "target_not_found")
		if tr, err := f.s.StartTrial(ctx, f.shop, f.buyer, 2); err != nil || tr.Days != 7 {
			t.Fatalf("trial %+v %v", tr, err)
		}
		_, err = f.s.StartTrial(ctx, f.shop, f.buyer, 2)
		wantCode(t, err, "trial_used")
		if g := f.rights.grants[fmt.Sprintf("trial:%d:plan:2", f.buyer)]; g.Source != "trial" || g.Days != 7 {
			t.Fatalf("trial grant %+v", g)
		}
		_, err = f.s.StartTrial(ctx, f.other, f.stranger, 2) // the other shop offers none
		wantCode(t, err, "trial_not_offered")
	})
}

func TestRevenueCountsRealSales(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.paid(t, f.buyer, false)
		r := f.paid(t, f.friend, false)
		f.buy(t, f.buyer, KindCourse, 1, false) // never paid
		if _, err := f.s.StaffRefund(ctx, f.shop, 7, r.ID, RefundInput{Reason: "r"}); err != nil {
			t.Fatal(err)
		}
		if err := f.s.RefundNotified(ctx, f.shop, RefundNotice{MchRefundID: f.pay.refunds[0].RefundNo, MchOrderID: r.OutTradeNo}); err != nil {
			t.Fatal(err)
		}
		rows, err := f.s.RevenueByTarget(ctx, f.shop, f.clock.Add(-time.Hour), f.clock.Add(time.Hour))
		if err != nil || len(rows) != 1 {
			t.Fatalf("%+v %v", rows, err)
		}
		if v := rows[0]; v.Sales != 2 || v.GrossFen != 19800 || v.Refunds != 1 || v.RefundedFen != 9900 || v.NetFen != 9900 {
			t.Fatalf("revenue %+v", v)
		}
		if n, _ := f.s.Sales(ctx, f.shop, KindCourse, 1); n != 2 {
			t.Fatalf("sales %d", n)
		}
		if rows, _ := f.s.RevenueByTarget(ctx, f.other, f.clock.Add(-time.Hour), f.clock.Add(time.Hour)); len(rows) != 0 {
			t.Fatal("another shop sees this shop's revenue")
		}
	})
}
