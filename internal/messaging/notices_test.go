package messaging

import (
	"context"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

func (f *fixture) notify(t *testing.T, n Notice) error {
	t.Helper()
	ctx := context.Background()
	return f.d.InTx(ctx, func(tx *db.Tx) error { return f.s.Notify(ctx, tx, n) })
}

func (f *fixture) messageOf(t *testing.T, shopID int64, kind string, refID, memberID int64) (int64, int) {
	t.Helper()
	var id int64
	var n int
	if err := f.d.QueryRow(context.Background(), `SELECT COALESCE(MAX(id), 0), COUNT(*) FROM messages WHERE shop_id = ? AND kind = ? AND ref_id = ? AND member_id = ?`,
		shopID, kind, refID, memberID).Scan(&id, &n); err != nil {
		t.Fatal(err)
	}
	return id, n
}

// A notice carries its own values: the inbox shows them, a subscription
// template renders them, and a repeated notice is one message.
func TestNoticesRenderTheirOwnValues(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		n := Notice{ShopID: f.shop, MemberID: f.a, Kind: MembershipExpiring, RefID: 77,
			Vars: map[string]string{"membership.title": "年度会员", "membership.ends_at": "2026-12-14 23:59", "membership.days_left": "7"}}
		for range 2 {
			if err := f.notify(t, n); err != nil {
				t.Fatal(err)
			}
		}
		id, count := f.messageOf(t, f.shop, MembershipExpiring, 77, f.a)
		if count != 1 {
			t.Fatalf("a repeated notice made %d messages", count)
		}
		if err := f.run(f.shop, id, 1); err != nil {
			t.Fatal(err)
		}
		inbox, err := f.s.Inbox(ctx, f.shop, f.a, 0, 10)
		if err != nil || len(inbox) != 1 {
			t.Fatalf("inbox %+v %v", inbox, err)
		}
		if m := inbox[0]; m.Title != "会员即将到期" || !strings.Contains(m.Body, "年度会员") || !strings.Contains(m.Body, "还剩 7 天") {
			t.Fatalf("inbox message %+v", m)
		}
		// With a template and an acceptance, it goes as a subscription message.
		if _, err := f.s.SetTemplate(ctx, f.shop, TemplateInput{Kind: MembershipExpiring, TemplateID: "TPL_PAID", Page: "pages/member/plans?id={ref_id}",
			Fields: map[string]string{"thing1": "membership.title", "time2": "membership.ends_at", "number3": "membership.days_left"}}); err != nil {
			t.Fatal(err)
		}
		f.accept(t, f.shop, f.b, 1)
		n.MemberID, n.RefID = f.b, 78
		if err := f.notify(t, n); err != nil {
			t.Fatal(err)
		}
		id, _ = f.messageOf(t, f.shop, MembershipExpiring, 78, f.b)
		if err := f.run(f.shop, id, 1); err != nil {
			t.Fatal(err)
		}
		if f.wx.count() != 1 {
			t.Fatalf("%d subscription messages sent", f.wx.count())
		}
		sent := f.wx.sent[0]
		if sent.Data["thing1"].Value != "年度会员" || sent.Data["number3"].Value != "7" || sent.Page != "pages/member/plans?id=78" {
			t.Fatalf("sent %+v", sent)
		}
	})
}

func TestNoticeRefusals(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		if err := f.notify(t, Notice{ShopID: f.shop, MemberID: f.a, Kind: OrderPaid, RefID: 1}); !errs.Is(err, "message_kind_invalid") {
			t.Fatalf("an order kind as a notice: %v", err)
		}
		if err := f.notify(t, Notice{ShopID: f.shop, MemberID: f.a, Kind: PointsExpiring, RefID: 1, Vars: map[string]string{"order.no": "x"}}); !errs.Is(err, "message_var_invalid") {
			t.Fatalf("a value the kind has not: %v", err)
		}
		// A template may use only its kind's sources.
		_, err := f.s.SetTemplate(context.Background(), f.shop, TemplateInput{Kind: PointsExpiring, TemplateID: "T", Fields: map[string]string{"thing1": "order.title"}})
		if !errs.Is(err, "invalid_input") && (errs.As(err) == nil || errs.As(err).Kind != errs.Invalid) {
			t.Fatalf("points template with an order source: %v", err)
		}
	})
}

func TestRefundedOrderMessage(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		for range 2 { // a second refund of the same order adds no message
			if err := f.d.InTx(ctx, func(tx *db.Tx) error {
				return f.s.Refunded(ctx, tx, order.RefundedOrder{ShopID: f.shop, OrderID: 5, MemberID: f.a, PaidAmount: 9990, RefundedOK: 9990})
			}); err != nil {
				t.Fatal(err)
			}
		}
		id, n := f.messageOf(t, f.shop, OrderRefunded, 5, f.a)
		if n != 1 {
			t.Fatalf("%d refunded messages", n)
		}
		if err := f.run(f.shop, id, 1); err != nil {
			t.Fatal(err)
		}
		inbox, _ := f.s.Inbox(ctx, f.shop, f.a, 0, 10)
		if len(inbox) != 1 || inbox[0].Title != "退款成功" || !strings.Contains(inbox[0].Body, "KD5") {
			t.Fatalf("inbox %+v", inbox)
		}
	})
}
