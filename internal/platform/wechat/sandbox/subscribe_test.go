package sandbox_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/wechat"
	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
)

func subscribeEnv(t *testing.T) (*sandbox.Sandbox, *wechat.Client, wechat.App, string) {
	t.Helper()
	sb := sandbox.New()
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	app := wechat.App{AppID: "wxsub", Secret: "subsecret"}
	sb.AddApp(app.AppID, app.Secret)
	if _, err := sb.LoginCode(app.AppID, "oSub", ""); err != nil {
		t.Fatal(err)
	}
	if err := sb.AddTemplate(app.AppID, "TPL_PAID", "thing1", "amount2"); err != nil {
		t.Fatal(err)
	}
	return sb, wechat.NewClient(srv.URL, srv.Client(), nil), app, "oSub"
}

func paidMessage(openid string) wechat.SubscribeMessage {
	return wechat.SubscribeMessage{ToUser: openid, TemplateID: "TPL_PAID", Page: "pages/order/detail?id=1",
		Data: map[string]wechat.KeywordValue{"thing1": {Value: "连衣裙 ×1"}, "amount2": {Value: "¥99.00"}}}
}

func TestSubscribeSendUsesOneAcceptance(t *testing.T) {
	sb, c, app, openid := subscribeEnv(t)
	ctx := context.Background()
	if err := c.SendSubscribeMessage(ctx, app, paidMessage(openid)); wechat.ErrCode(err) != 43101 {
		t.Fatalf("no acceptance: got %v, want 43101", err)
	}
	sb.Accept(app.AppID, openid, "TPL_PAID", 1)
	if err := c.SendSubscribeMessage(ctx, app, paidMessage(openid)); err != nil {
		t.Fatal(err)
	}
	if err := c.SendSubscribeMessage(ctx, app, paidMessage(openid)); wechat.ErrCode(err) != 43101 || !wechat.IsSubscribeRefusal(err) {
		t.Fatalf("second send on one acceptance: got %v, want 43101", err)
	}
	msgs := sb.SubscribeMessages(app.AppID)
	if len(msgs) != 1 || msgs[0].Data["amount2"] != "¥99.00" || msgs[0].OpenID != openid {
		t.Fatalf("log = %+v", msgs)
	}
}

func TestSubscribeSendRefusals(t *testing.T) {
	sb, c, app, openid := subscribeEnv(t)
	ctx := context.Background()
	sb.Accept(app.AppID, openid, "TPL_PAID", 5)
	bad := paidMessage(openid)
	bad.Data["thing1"] = wechat.KeywordValue{Value: strings.Repeat("裙", 21)}
	err := c.SendSubscribeMessage(ctx, app, bad)
	if wechat.ErrCode(err) != 47003 || !strings.Contains(err.Error(), "thing1") {
		t.Fatalf("long thing: got %v, want 47003 naming thing1", err)
	}
	missing := paidMessage(openid)
	delete(missing.Data, "amount2")
	if err := c.SendSubscribeMessage(ctx, app, missing); wechat.ErrCode(err) != 47003 {
		t.Fatalf("missing keyword: got %v", err)
	}
	unknown := paidMessage(openid)
	unknown.TemplateID = "TPL_NONE"
	if err := c.SendSubscribeMessage(ctx, app, unknown); wechat.ErrCode(err) != 40037 {
		t.Fatalf("unknown template: got %v", err)
	}
	if err := c.SendSubscribeMessage(ctx, app, paidMessage("oStranger")); wechat.ErrCode(err) != 40003 {
		t.Fatalf("unknown openid: got %v", err)
	}
	if got := sb.Quota(app.AppID, openid, "TPL_PAID"); got != 5 {
		t.Fatalf("refused sends used acceptances: %d left, want 5", got)
	}
	sb.FailNext(wechat.SubscribeSendAPI, -1)
	if err := c.SendSubscribeMessage(ctx, app, paidMessage(openid)); !wechat.IsBusy(err) {
		t.Fatalf("fail-next -1: got %v", err)
	}
	sb.RemoveTemplate(app.AppID, "TPL_PAID")
	if err := c.SendSubscribeMessage(ctx, app, paidMessage(openid)); wechat.ErrCode(err) != 40037 {
		t.Fatalf("deleted template: got %v", err)
	}
	if n := len(sb.SubscribeMessages(app.AppID)); n != 0 {
		t.Fatalf("%d messages delivered, want 0", n)
	}
}

// A rejected token is refreshed and the send retried once: one delivery.
func TestSubscribeSendRefreshesToken(t *testing.T) {
	sb, c, app, openid := subscribeEnv(t)
	ctx := context.Background()
	sb.Accept(app.AppID, openid, "TPL_PAID", 2)
	if err := c.SendSubscribeMessage(ctx, app, paidMessage(openid)); err != nil {
		t.Fatal(err)
	}
	sb.ExpireTokens(app.AppID)
	if err := c.SendSubscribeMessage(ctx, app, paidMessage(openid)); err != nil {
		t.Fatalf("after the token expired: %v", err)
	}
	sb.FailNext(wechat.SubscribeSendAPI, 42001)
	if err := c.SendSubscribeMessage(ctx, app, paidMessage(openid)); wechat.ErrCode(err) != 43101 {
		t.Fatalf("after 42001 the retry reaches the quota check: got %v", err)
	}
	if n := len(sb.SubscribeMessages(app.AppID)); n != 2 {
		t.Fatalf("%d messages delivered, want 2", n)
	}
}

// The control endpoints the demo uses: accept for the default buyer, read
// the delivery log.
func TestSubscribeControls(t *testing.T) {
	sb, c, app, _ := subscribeEnv(t)
	code, err := sb.LoginCode(app.AppID, "", "")
	if err != nil || code == "" {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	defer srv.Close()
	post := func(path, body string) string {
		res, err := srv.Client().Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	if got := post("/sandbox/subscribe-accept", `{"appid":"wxsub","template_id":"TPL_PAID","count":2}`); !strings.Contains(got, `"quota":2`) {
		t.Fatalf("accept: %s", got)
	}
	if got := post("/sandbox/subscribe-accept", `{"appid":"wxsub"}`); !strings.Contains(got, "error") {
		t.Fatalf("accept without a template: %s", got)
	}
	openid := strings.TrimSpace(post("/sandbox/login-code", `{"appid":"wxsub"}`))
	if !strings.Contains(openid, `"openid"`) {
		t.Fatalf("login-code: %s", openid)
	}
	var lc struct{ OpenID string }
	if err := json.Unmarshal([]byte(openid), &lc); err != nil {
		t.Fatal(err)
	}
	if err := c.SendSubscribeMessage(context.Background(), app, paidMessage(lc.OpenID)); err != nil {
		t.Fatal(err)
	}
	if got := post("/sandbox/subscribe-messages", `{"appid":"wxsub"}`); !strings.Contains(got, `"amount2":"¥99.00"`) {
		t.Fatalf("messages: %s", got)
	}
	if got := post("/sandbox/subscribe-messages", `{"appid":"wxnone"}`); !strings.Contains(got, `"messages":[]`) {
		t.Fatalf("messages of another app: %s", got)
	}
}
