package messaging

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/ratelimit"
	"github.com/kaidian/kaidian/internal/platform/secretbox"
	"github.com/kaidian/kaidian/internal/platform/sms"
	"github.com/kaidian/kaidian/internal/platform/sms/sandbox"
	"github.com/kaidian/kaidian/internal/smsgate"
)

type noPhones struct{}

func (noPhones) SetPhoneTx(context.Context, *db.Tx, int64, int64, string) error { return nil }

// withSMS gives the fixture's service the SMS gateway on a sandbox, the
// shop an Aliyun account with an order_paid template, and member a a phone.
func (f *fixture) withSMS(t *testing.T) (*sandbox.Sandbox, *smsgate.Service) {
	t.Helper()
	ctx := context.Background()
	box, _ := secretbox.New(make([]byte, 32))
	sb := sandbox.New()
	ts := httptest.NewServer(sb)
	t.Cleanup(ts.Close)
	g := smsgate.NewService(f.d, box, sb.Client(ts.URL), ratelimit.New(f.d), noPhones{})
	_, err := g.PutSettings(ctx, f.shop, smsgate.SettingsInput{Provider: sms.Aliyun, AccessKeyID: sandbox.AliyunKeyID,
		AccessSecret: sandbox.AliyunSecret, SignName: "开店小铺", Templates: map[string]string{"order_paid": "SMS_PAID"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.Exec(ctx, `UPDATE members SET phone = '13800138000' WHERE id = ?`, f.a); err != nil {
		t.Fatal(err)
	}
	f.s.SetSMS(g)
	return sb, g
}

func TestSMSBetweenSubscriptionAndInbox(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.setPaidTemplate(t, f.shop)
		sb, g := f.withSMS(t)
		f.accept(t, f.shop, f.a, 1)

		// An acceptance: a subscription message; then SMS, as a has a phone.
		first, second := f.paid(t, f.shop, f.a, 1), f.paid(t, f.shop, f.a, 2)
		for _, id := range []int64{first, second} {
			if err := f.run(f.shop, id, 1); err != nil {
				t.Fatal(err)
			}
		}
		if m := f.message(t, f.shop, first); m.Channel != ChannelSubscription || m.State != Sent {
			t.Fatalf("first %+v", m)
		}
		if m := f.message(t, f.shop, second); m.Channel != ChannelSMS || m.State != Sent {
			t.Fatalf("second %+v", m)
		}
		sent := sb.Sent()
		if len(sent) != 1 || sent[0].Phone != "13800138000" || sent[0].Template != "SMS_PAID" ||
			sent[0].Params[0] != (sms.Param{Name: "amount", Value: "¥99.90"}) || sent[0].Params[1] != (sms.Param{Name: "order_no", Value: "KD2"}) {
			t.Fatalf("sms %+v", sent)
		}
		// Unsubscribing stops marketing SMS only: an order notice still goes.
		if _, err := g.Unsubscribe(ctx, f.shop, f.a); err != nil {
			t.Fatal(err)
		}
		third := f.paid(t, f.shop, f.a, 3)
		if err := f.run(f.shop, third, 1); err != nil {
			t.Fatal(err)
		}
		if m := f.message(t, f.shop, third); m.Channel != ChannelSMS || len(sb.Sent()) != 2 {
			t.Fatalf("third %+v", m)
		}
		// No phone: the inbox. Shipped has no SMS template: the inbox.
		b := f.paid(t, f.shop, f.b, 4)
		if err := f.run(f.shop, b, 1); err != nil {
			t.Fatal(err)
		}
		if m := f.message(t, f.shop, b); m.Channel != ChannelInbox {
			t.Fatalf("no phone: %+v", m)
		}
	})
}

func TestSMSErrorsByClass(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		sb, _ := f.withSMS(t)
		// A refusal: dead letter with the provider's code, never retried.
		sb.FailNext(sandbox.InvalidNumber)
		dead := f.paid(t, f.shop, f.a, 1)
		if err := f.run(f.shop, dead, 1); err != nil {
			t.Fatalf("a refusal is settled, not retried: %v", err)
		}
		m := f.message(t, f.shop, dead)
		if m.State != Dead || m.Channel != ChannelSMS || !strings.Contains(m.Reason, "isv.MOBILE_NUMBER_ILLEGAL") {
			t.Fatalf("refused %+v", m)
		}
		// A provider failure: retried with backoff, then sent.
		sb.FailNext(sandbox.SystemError)
		busy := f.paid(t, f.shop, f.a, 2)
		if err := f.run(f.shop, busy, 1); err == nil {
			t.Fatal("a system error was not retried")
		}
		if m := f.message(t, f.shop, busy); m.State != Sending || m.Attempts != 1 {
			t.Fatalf("after a system error %+v", m)
		}
		if err := f.run(f.shop, busy, 2); err != nil {
			t.Fatal(err)
		}
		if m := f.message(t, f.shop, busy); m.State != Sent || m.Attempts != 2 || len(m.Log) != 2 {
			t.Fatalf("after the retry %+v", m)
		}
		var body smsBody
		var raw string
		d.QueryRow(context.Background(), `SELECT body FROM messages WHERE id = ?`, busy).Scan(&raw)
		if json.Unmarshal([]byte(raw), &body) != nil || body.Phone != "13800138000" {
			t.Fatalf("stored body %q", raw)
		}
		if n := len(sb.Sent()); n != 1 {
			t.Fatalf("%d sent", n)
		}
	})
}

// In a shop whose only channel for a kind is the inbox, a message is
// delivered in its trigger's transaction (no send job, the values the
// transaction sees); any other channel configured for the kind —
// subscription template, SMS template — leaves it to its job, as the job
// decides per member. A repeated trigger is still one message.
func TestInboxOnlyShopsDeliverInTheTriggersTransaction(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jobsOf := func(id int64) int {
			var n int
			if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM jobs WHERE unique_key = ?`, "messaging:"+strconv.FormatInt(id, 10)).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		first := f.paid(t, f.shop, f.a, 1)
		f.paid(t, f.shop, f.a, 1)
		if m := f.message(t, f.shop, first); m.State != Sent || m.Channel != ChannelInbox || jobsOf(first) != 0 {
			t.Fatalf("inbox-only shop: %+v, %d jobs", m, jobsOf(first))
		}
		inbox, err := f.s.Inbox(ctx, f.shop, f.a, 0, 10)
		if err != nil || len(inbox) != 1 || !strings.Contains(inbox[0].Body, "KD1") || !strings.Contains(inbox[0].Body, "¥99.90") {
			t.Fatalf("inbox %+v %v", inbox, err)
		}
		notice := Notice{ShopID: f.shop, MemberID: f.b, Kind: PointsExpiring, RefID: 5,
			Vars: map[string]string{"points.amount": "1200", "points.expires_at": "2026-12-31 23:59"}}
		if err := f.notify(t, notice); err != nil {
			t.Fatal(err)
		}
		if id, n := f.messageOf(t, f.shop, PointsExpiring, 5, f.b); n != 1 || f.message(t, f.shop, id).State != Sent || jobsOf(id) != 0 {
			t.Fatalf("notice in an inbox-only shop: %+v, %d jobs", f.message(t, f.shop, id), jobsOf(id))
		}

		// An SMS template for the kind: the job decides; another kind still goes straight to the inbox.
		_, g := f.withSMS(t)
		if id := f.paid(t, f.shop, f.b, 2); f.message(t, f.shop, id).State != Pending || jobsOf(id) != 1 {
			t.Fatalf("with an SMS template: %+v, %d jobs", f.message(t, f.shop, id), jobsOf(id))
		}
		shipped := func(orderID int64) Message {
			if err := d.InTx(ctx, func(tx *db.Tx) error { return f.s.queue(ctx, tx, f.shop, f.b, OrderShipped, orderID) }); err != nil {
				t.Fatal(err)
			}
			id, _ := f.messageOf(t, f.shop, OrderShipped, orderID, f.b)
			return f.message(t, f.shop, id)
		}
		if m := shipped(2); m.State != Sent || m.Channel != ChannelInbox {
			t.Fatalf("shipped with an SMS template for paid only: %+v", m)
		}
		// Staff move the SMS template to order_shipped: the next trigger sees it at once.
		if _, err := g.PutSettings(ctx, f.shop, smsgate.SettingsInput{Provider: sms.Aliyun, AccessKeyID: sandbox.AliyunKeyID,
			SignName: "开店小铺", Templates: map[string]string{"order_shipped": "SMS_SHIP"}}); err != nil {
			t.Fatal(err)
		}
		if m := shipped(4); m.State != Pending {
			t.Fatalf("shipped with an SMS template for it: %+v", m)
		}
		if id := f.paid(t, f.shop, f.b, 4); f.message(t, f.shop, id).State != Sent {
			t.Fatalf("paid without its SMS template: %+v", f.message(t, f.shop, id))
		}
		// A linked OA with a template for the kind: the job decides.
		f.withOA(t)
		if id := f.paid(t, f.shop, f.b, 5); f.message(t, f.shop, id).State != Pending || jobsOf(id) != 1 {
			t.Fatalf("with an OA template: %+v, %d jobs", f.message(t, f.shop, id), jobsOf(id))
		}
		// A subscription template in the other shop: its messages wait for their jobs, this shop's are unchanged.
		f.setPaidTemplate(t, f.otherShop)
		other := f.paid(t, f.otherShop, f.oth, 3)
		if m := f.message(t, f.otherShop, other); m.State != Pending || jobsOf(other) != 1 {
			t.Fatalf("with a subscription template: %+v, %d jobs", m, jobsOf(other))
		}
	})
}
