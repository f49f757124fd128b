package messaging

import (
	"context"
	"encoding/json"
	"net/http/httptest"
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
