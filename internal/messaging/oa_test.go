package messaging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/secretbox"
	"github.com/kaidian/kaidian/internal/platform/wechat"
	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
)

const testOAAppID = "wx00000000000000aa"

// fakeOA is a scripted Official Account: followers by openid, errors
// answered in order before successes.
type fakeOA struct {
	mu        sync.Mutex
	followers map[string]wechat.OAUser
	errs      []error
	sent      []wechat.OATemplateMessage
}

func (f *fakeOA) SendOATemplate(_ context.Context, oa wechat.App, m wechat.OATemplateMessage) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if oa.AppID != testOAAppID || oa.Secret != "oasecret0123456789" {
		return &wechat.APIError{Code: 40013, Message: "invalid appid"}
	}
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return err
	}
	f.sent = append(f.sent, m)
	return nil
}

func (f *fakeOA) OAUserInfo(_ context.Context, _ wechat.App, openid string) (wechat.OAUser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.followers[openid]
	if !ok {
		return wechat.OAUser{}, &wechat.APIError{Code: 40003, Message: "invalid openid"}
	}
	return u, nil
}

func (f *fakeOA) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

var oaPush = wechat.PushConfig{AppID: testOAAppID, Token: "oatoken1"}

// withOA links the shop's OA (push Token oatoken1) with an order_paid
// template, and gives member a the unionid "ua" and b "ub".
func (f *fixture) withOA(t *testing.T) *fakeOA {
	t.Helper()
	ctx := context.Background()
	box, _ := secretbox.New(make([]byte, 32))
	oa := &fakeOA{followers: map[string]wechat.OAUser{}}
	f.s.SetOA(box, oa)
	if _, err := f.s.PutOASettings(ctx, f.shop, OASettingsInput{AppID: testOAAppID, Secret: "oasecret0123456789", PushToken: oaPush.Token}); err != nil {
		t.Fatal(err)
	}
	_, err := f.s.SetOATemplate(ctx, f.shop, OATemplateInput{Kind: OrderPaid, TemplateID: "OA_PAID",
		Fields: map[string]string{"character_string1": "order.no", "amount2": "order.amount", "thing3": "order.title"}})
	if err != nil {
		t.Fatal(err)
	}
	for id, u := range map[int64]string{f.a: "ua", f.b: "ub"} {
		if _, err := f.d.Exec(ctx, `UPDATE members SET unionid = ? WHERE id = ?`, u, id); err != nil {
			t.Fatal(err)
		}
	}
	return oa
}

// follow pushes a subscribe (or unsubscribe) event of openid, as the OA
// does, through the push URL's handler; user/info answers following.
func (f *fixture) follow(t *testing.T, oa *fakeOA, openid, unionid string, following bool) {
	t.Helper()
	oa.mu.Lock()
	u := wechat.OAUser{OpenID: openid, Subscribe: 0}
	if following {
		u.Subscribe, u.UnionID = 1, unionid
	}
	oa.followers[openid] = u
	oa.mu.Unlock()
	event := "unsubscribe"
	if following {
		event = "subscribe"
	}
	body := fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_oa]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName>`+
		`<CreateTime>1765000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[%s]]></Event></xml>`, openid, event)
	ack, err := f.s.ReceiveOAPush(context.Background(), f.shop, wechat.SignPlainPush(oaPush, "1765000000", "n1"), []byte(body))
	if err != nil || ack != wechat.PushAck {
		t.Fatalf("push: %q %v", ack, err)
	}
}

func (f *fixture) follower(t *testing.T, openid string) (unionid string, following bool) {
	t.Helper()
	err := f.d.QueryRow(context.Background(), `SELECT unionid, following FROM oa_followers WHERE shop_id = ? AND openid = ?`,
		f.shop, openid).Scan(&unionid, &following)
	if err != nil {
		t.Fatal(err)
	}
	return unionid, following
}

func TestOAFollowersByPush(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		oa := f.withOA(t)
		f.follow(t, oa, "oa-open-a", "ua", true)
		if u, on := f.follower(t, "oa-open-a"); u != "ua" || !on {
			t.Fatalf("after subscribe: %q %v", u, on)
		}
		f.follow(t, oa, "oa-stranger", "u-none", true)
		list, err := f.s.OAFollowers(context.Background(), f.shop, 0, 10)
		if err != nil || len(list) != 2 || list[0].OpenID != "oa-stranger" || list[0].MemberID != nil ||
			list[1].MemberID == nil || *list[1].MemberID != f.a || !list[1].Following {
			t.Fatalf("followers %+v %v", list, err)
		}
		if other, _ := f.s.OAFollowers(context.Background(), f.otherShop, 0, 10); len(other) != 0 {
			t.Fatalf("another shop sees %+v", other)
		}
		f.follow(t, oa, "oa-open-a", "", false)
		if u, on := f.follower(t, "oa-open-a"); u != "ua" || on {
			t.Fatalf("after unsubscribe the unionid stays, following no: %q %v", u, on)
		}

		// A forged push changes nothing; another shop's OA is not this one's.
		ctx := context.Background()
		q := wechat.SignPlainPush(wechat.PushConfig{Token: "wrong"}, "1", "n")
		if _, err := f.s.ReceiveOAPush(ctx, f.shop, q, []byte(`<xml><MsgType>event</MsgType></xml>`)); err == nil ||
			!strings.Contains(err.Error(), "signature") {
			t.Fatalf("forged push: %v", err)
		}
		if _, err := f.s.ReceiveOAPush(ctx, f.otherShop, wechat.SignPlainPush(oaPush, "1", "n"), []byte(`<xml></xml>`)); err == nil {
			t.Fatal("a shop without OA settings took a push")
		}
		// Settings: secrets masked, kept when empty.
		st, err := f.s.PutOASettings(ctx, f.shop, OASettingsInput{AppID: testOAAppID})
		if err != nil || st.Secret != "****6789" || st.PushToken != "****ken1" || !st.Configured {
			t.Fatalf("settings %+v %v", st, err)
		}
		// Another OA needs its secret, and forgets the old OA's followers.
		if _, err := f.s.PutOASettings(ctx, f.shop, OASettingsInput{AppID: "wx00000000000000cc"}); err == nil {
			t.Fatal("another OA kept the old secret")
		}
		if _, on := f.follower(t, "oa-open-a"); on {
			t.Fatal("follower changed by a refused update")
		}
		if _, err := f.s.PutOASettings(ctx, f.shop, OASettingsInput{AppID: "wx00000000000000cc", Secret: "othersecret0123456"}); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := f.d.QueryRow(ctx, `SELECT COUNT(*) FROM oa_followers WHERE shop_id = ?`, f.shop).Scan(&n); err != nil || n != 0 {
			t.Fatalf("old OA's followers kept: %d %v", n, err)
		}
		if _, err := f.s.PutOASettings(ctx, f.otherShop, OASettingsInput{AppID: "bad"}); err == nil {
			t.Fatal("bad appid taken")
		}
		if _, err := f.s.SetOATemplate(ctx, f.shop, OATemplateInput{Kind: PointsExpiring, TemplateID: "X",
			Fields: map[string]string{"thing1": "points.amount"}}); err == nil {
			t.Fatal("an OA template for a kind the OA does not carry")
		}
	})
}

func TestOAAfterSubscriptionBeforeInbox(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.setPaidTemplate(t, f.shop)
		oa := f.withOA(t)
		f.follow(t, oa, "oa-open-a", "ua", true)
		f.accept(t, f.shop, f.a, 1)

		// The acceptance goes first, then the OA; b follows nothing: inbox.
		first, second, third := f.paid(t, f.shop, f.a, 1), f.paid(t, f.shop, f.a, 2), f.paid(t, f.shop, f.b, 3)
		for _, id := range []int64{first, second, third} {
			if err := f.run(f.shop, id, 1); err != nil {
				t.Fatal(err)
			}
		}
		for id, want := range map[int64]string{first: ChannelSubscription, second: ChannelOA, third: ChannelInbox} {
			if m := f.message(t, f.shop, id); m.Channel != want || m.State != Sent {
				t.Fatalf("message %d: %s %s, want %s sent", id, m.Channel, m.State, want)
			}
		}
		if oa.count() != 1 {
			t.Fatalf("OA sent %d", oa.count())
		}
		got := oa.sent[0]
		if got.ToUser != "oa-open-a" || got.TemplateID != "OA_PAID" || got.Data["character_string1"].Value != "KD2" ||
			got.Data["amount2"].Value != "¥99.90" || got.Miniprogram == nil || got.Miniprogram.AppID != "wxtest" ||
			got.Miniprogram.PagePath != "pages/order/detail?id=2" || got.ClientMsgID == "" {
			t.Fatalf("OA message %+v", got)
		}
	})
}

func TestOAErrorsByClass(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		oa := f.withOA(t)
		f.follow(t, oa, "oa-open-a", "ua", true)
		dead := func() int {
			list, err := f.s.DeadLetters(context.Background(), f.shop, 0, 50)
			if err != nil {
				t.Fatal(err)
			}
			return len(list)
		}

		// 43004: the follower is marked not following and the inbox takes it; no dead letter.
		oa.errs = []error{&wechat.APIError{Code: wechat.ErrOANotFollowing, Message: "require subscribe"}}
		id := f.paid(t, f.shop, f.a, 1)
		if err := f.run(f.shop, id, 1); err != nil {
			t.Fatal(err)
		}
		if m := f.message(t, f.shop, id); m.Channel != ChannelInbox || m.State != Sent || dead() != 0 {
			t.Fatalf("43004: %+v, %d dead", m, dead())
		}
		if _, on := f.follower(t, "oa-open-a"); on {
			t.Fatal("43004 left the follower following")
		}

		// Busy: retried (the job fails), then sent by the OA.
		f.follow(t, oa, "oa-open-a", "ua", true)
		oa.errs = []error{&wechat.APIError{Code: -1, Message: "system busy"}}
		id = f.paid(t, f.shop, f.a, 2)
		if err := f.run(f.shop, id, 1); err == nil {
			t.Fatal("busy: the job did not fail for a retry")
		}
		if m := f.message(t, f.shop, id); m.State != Sending || m.Channel != ChannelOA {
			t.Fatalf("busy: %+v", m)
		}
		if err := f.run(f.shop, id, 2); err != nil {
			t.Fatal(err)
		}
		if m := f.message(t, f.shop, id); m.State != Sent || m.Channel != ChannelOA || oa.count() != 1 {
			t.Fatalf("after busy: %+v, %d sent", m, oa.count())
		}

		// 40037: a dead letter for staff, not retried, the follower untouched.
		oa.errs = []error{&wechat.APIError{Code: wechat.ErrOATemplate, Message: "invalid template_id"}}
		id = f.paid(t, f.shop, f.a, 3)
		if err := f.run(f.shop, id, 1); err != nil {
			t.Fatal(err)
		}
		if m := f.message(t, f.shop, id); m.State != Dead || m.Channel != ChannelOA || dead() != 1 {
			t.Fatalf("40037: %+v", m)
		}
		if _, on := f.follower(t, "oa-open-a"); !on {
			t.Fatal("40037 unfollowed the follower")
		}
		if err := f.run(f.shop, id, 2); err != nil || oa.count() != 1 {
			t.Fatalf("a dead letter was sent again: %v, %d", err, oa.count())
		}
	})
}

func TestOAClassify(t *testing.T) {
	for code, want := range map[int]wechat.OAClass{43004: wechat.OAUnreachable, 40003: wechat.OAUnreachable,
		40037: wechat.OARefused, 47001: wechat.OARefused, -1: wechat.OARetry, 45009: wechat.OARetry} {
		if got := wechat.ClassifyOA(&wechat.APIError{Code: code}); got != want {
			t.Errorf("%d: %v, want %v", code, got, want)
		}
	}
	if wechat.ClassifyOA(errors.New("timeout")) != wechat.OARetry {
		t.Error("no answer is not retried")
	}
}

// TestOAThroughTheSandbox runs the channel on the real client against the
// sandbox: its follow pushes reach the shop's OA push handler, which asks
// user/info; template/send logs the message; an unfollow then falls
// through to the inbox.
func TestOAThroughTheSandbox(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.withOA(t)
		sb := sandbox.New()
		sb.AddApp(testOAAppID, "oasecret0123456789")
		sb.AddOATemplate(testOAAppID, "OA_PAID", "character_string1", "amount2", "thing3")
		api := httptest.NewServer(sb)
		t.Cleanup(api.Close)
		client := wechat.NewClient(api.URL, nil, nil)
		box, _ := secretbox.New(make([]byte, 32))
		f.s.SetOA(box, client)
		push := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if _, err := f.s.ReceiveOAPush(r.Context(), f.shop, r.URL.Query(), body); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
			}
		}))
		t.Cleanup(push.Close)
		sb.SetPushTarget(testOAAppID, sandbox.PushTarget{URL: push.URL, Token: oaPush.Token})

		if err := sb.Follow(testOAAppID, "oa-open-a", "ua"); err != nil {
			t.Fatal(err)
		}
		if u, on := f.follower(t, "oa-open-a"); u != "ua" || !on {
			t.Fatalf("follower %q %v", u, on)
		}
		id := f.paid(t, f.shop, f.a, 1)
		if err := f.run(f.shop, id, 1); err != nil {
			t.Fatal(err)
		}
		sent := sb.OAMessages(testOAAppID)
		if m := f.message(t, f.shop, id); m.Channel != ChannelOA || m.State != Sent || len(sent) != 1 ||
			sent[0].OpenID != "oa-open-a" || sent[0].MiniAppID != "wxtest" || sent[0].Data["amount2"] != "¥99.90" {
			t.Fatalf("sent %+v, logged %+v", m, sent)
		}

		// A worker dies between WeChat's OK and the mark: the takeover sends
		// again with the same client_msg_id, which WeChat (the sandbox) drops.
		id = f.paid(t, f.shop, f.a, 3)
		m, err := f.s.load(ctx, f.shop, id)
		if err != nil {
			t.Fatal(err)
		}
		if m, err = f.s.claim(ctx, m); err != nil || m.Channel != ChannelOA {
			t.Fatalf("claim %+v %v", m, err)
		}
		if err := f.s.channels[ChannelOA].deliver(ctx, m); err != nil {
			t.Fatal(err)
		}
		f.s.SetClock(func() time.Time { return time.Now().Add(takeover + time.Second) })
		if err := f.run(f.shop, id, 2); err != nil {
			t.Fatal(err)
		}
		if m := f.message(t, f.shop, id); m.State != Sent || len(sb.OAMessages(testOAAppID)) != 2 {
			t.Fatalf("after the takeover %+v, %d delivered", m, len(sb.OAMessages(testOAAppID)))
		}
		f.s.SetClock(time.Now)

		// Unfollowed without the shop hearing of it (no push target): 43004, then the inbox.
		sb.SetPushTarget(testOAAppID, sandbox.PushTarget{URL: push.URL + "/gone", Token: "other"})
		_ = sb.Unfollow(testOAAppID, "oa-open-a")
		id = f.paid(t, f.shop, f.a, 2)
		if err := f.run(f.shop, id, 1); err != nil {
			t.Fatal(err)
		}
		if m := f.message(t, f.shop, id); m.Channel != ChannelInbox || m.State != Sent || len(sb.OAMessages(testOAAppID)) != 2 {
			t.Fatalf("after unfollow %+v", m)
		}
		list, err := f.s.DeadLetters(ctx, f.shop, 0, 10)
		if err != nil || len(list) != 0 {
			t.Fatalf("dead letters %v %v", list, err)
		}
	})
}
