package sandbox_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/wechat"
	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
)

func TestMediaCheckAsyncAndItsPush(t *testing.T) {
	e := newEnv(t)
	tok := e.plain(t)
	check := func(body map[string]any) (map[string]any, int) {
		return e.api(t, http.MethodPost, "/wxa/media_check_async?access_token="+url.QueryEscape(tok), body)
	}
	ok := map[string]any{"media_url": "https://shop.example.com/media/shop/1/aa.jpg", "media_type": 2, "version": 2, "openid": "oUser", "scene": 1}
	for _, bad := range []struct {
		field string
		value any
		code  int
	}{{"media_url", "cloud://x/y.jpg", -1008}, {"openid", "", 40003}, {"version", 1, 40097}, {"scene", 9, 40097}, {"media_type", 3, 40097}} {
		body := map[string]any{}
		for k, v := range ok {
			body[k] = v
		}
		body[bad.field] = bad.value
		if _, code := check(body); code != bad.code {
			t.Errorf("%s=%v: errcode %d, want %d", bad.field, bad.value, code, bad.code)
		}
	}
	out, code := check(ok)
	if code != 0 || out["trace_id"] == "" {
		t.Fatalf("check: %v %d", out, code)
	}
	riskyBody := map[string]any{}
	for k, v := range ok {
		riskyBody[k] = v
	}
	riskyBody["media_url"] = "https://shop.example.com/media/shop/1/bad.jpg"
	if _, code := check(riskyBody); code != 0 {
		t.Fatal(code)
	}
	if checks := e.sb.MediaChecks(appID); len(checks) != 2 || checks[0].TraceID != out["trace_id"] || checks[0].OpenID != "oUser" {
		t.Fatalf("checks: %+v", checks)
	}
	// The verdicts arrive as safe-mode pushes that open with the shop's settings.
	cfg := wechat.PushConfig{AppID: appID, Token: "tok", EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}
	verdicts := map[string]string{}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p, err := wechat.OpenPush(cfg, r.URL.Query(), body)
		if err != nil || !p.Encrypted || p.Event != "wxa_media_check" {
			http.Error(w, "bad push", 400)
			return
		}
		var ev struct {
			TraceID string `json:"trace_id"`
			Result  struct{ Suggest string }
		}
		_ = p.Decode(&ev)
		verdicts[ev.TraceID] = ev.Result.Suggest
		_, _ = io.WriteString(w, "success")
	}))
	defer receiver.Close()
	if _, err := e.sb.DeliverMediaChecks(appID); err == nil {
		t.Fatal("delivered without a push target")
	}
	e.control(t, "media-risky", map[string]any{"url_part": "bad.jpg"})
	got := e.control(t, "media-deliver", map[string]any{"appid": appID, "url": receiver.URL, "token": cfg.Token, "encoding_aes_key": cfg.EncodingAESKey})
	if got["delivered"] == nil || len(verdicts) != 2 {
		t.Fatalf("deliver: %v, verdicts %v", got, verdicts)
	}
	checks := e.sb.MediaChecks(appID)
	if verdicts[checks[0].TraceID] != "pass" || verdicts[checks[1].TraceID] != "risky" || !checks[1].Delivered {
		t.Fatalf("verdicts %v for %+v", verdicts, checks)
	}
	if n, _ := e.sb.DeliverMediaChecks(appID); n != 0 {
		t.Fatalf("delivered %d twice", n)
	}
}

func TestClientMediaCheckAsync(t *testing.T) {
	e := newEnv(t)
	c := wechat.NewClient(e.base, nil, nil)
	app := wechat.App{AppID: appID, Secret: secret}
	trace, err := c.MediaCheckAsync(context.Background(), app, "https://shop.example.com/media/x.jpg", "oUser", 1)
	if err != nil || len(trace) != 32 {
		t.Fatalf("trace %q %v", trace, err)
	}
	_, err = c.MediaCheckAsync(context.Background(), app, "cloud://bucket/x.jpg", "oUser", 1)
	var apiErr *wechat.APIError
	if !errors.As(err, &apiErr) || !strings.Contains(err.Error(), "-1008") {
		t.Fatalf("cloud:// URL: %v", err)
	}
	_ = sandbox.PushTarget{}
}
