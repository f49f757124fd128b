package sandbox_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/kuaidi100"
	"github.com/kaidian/kaidian/internal/platform/kuaidi100/sandbox"
)

// TestClientAgainstSandbox: the client's signed query and subscription,
// the sandbox's refusals, and a push verified by ParsePush.
func TestClientAgainstSandbox(t *testing.T) {
	ctx := context.Background()
	sb := sandbox.New()
	srv := httptest.NewServer(sb)
	defer srv.Close()
	var pushes []url.Values
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		pushes = append(pushes, r.PostForm)
		w.Write([]byte(kuaidi100.Ack))
	}))
	defer hook.Close()
	c := &kuaidi100.Client{BaseURL: srv.URL, Customer: sandbox.Customer, Key: sandbox.Key}
	w := kuaidi100.Waybill{Company: "yuantong", Number: "YT0000000001"}

	var kerr *kuaidi100.Error
	if _, err := c.Query(ctx, w); !errors.As(err, &kerr) || kerr.ReturnCode != "500" {
		t.Fatalf("query of an unknown waybill: %v", err)
	}
	bad := &kuaidi100.Client{BaseURL: srv.URL, Customer: sandbox.Customer, Key: "wrong"}
	if err := bad.Subscribe(ctx, w, hook.URL, "salt"); !errors.As(err, &kerr) || kerr.ReturnCode != "600" {
		t.Fatalf("subscribe with a wrong key: %v", err)
	}
	if _, err := bad.Query(ctx, w); !errors.As(err, &kerr) || kerr.ReturnCode != "601" {
		t.Fatalf("query with a wrong key: %v", err)
	}
	for i := 0; i < 2; i++ { // the second is "subscribed before": fine
		if err := c.Subscribe(ctx, w, hook.URL, "salt-1"); err != nil {
			t.Fatalf("subscribe %d: %v", i, err)
		}
	}
	if err := sb.Advance(ctx, w.Company, w.Number); err != nil {
		t.Fatal(err)
	}
	if err := sb.Lose(w.Company, w.Number); err != nil {
		t.Fatal(err)
	}
	tr, err := c.Query(ctx, w)
	if err != nil || tr.State != kuaidi100.InTransit || len(tr.Events) != 2 || !strings.Contains(tr.Events[0].Context, "发往") {
		t.Fatalf("query: %+v %v", tr, err)
	}
	if len(pushes) != 1 {
		t.Fatalf("%d pushes", len(pushes))
	}
	p, err := kuaidi100.ParsePush(pushes[0], "salt-1")
	if err != nil || p.Number != w.Number || p.Trace.State != kuaidi100.PickedUp || len(p.Trace.Events) != 1 {
		t.Fatalf("push: %+v %v", p, err)
	}
	lower := url.Values{"param": pushes[0]["param"], "sign": {strings.ToLower(pushes[0].Get("sign"))}}
	if _, err := kuaidi100.ParsePush(lower, "salt-1"); err != nil {
		t.Fatalf("a lower-case sign: %v", err)
	}
	if _, err := kuaidi100.ParsePush(pushes[0], "salt-2"); err != kuaidi100.ErrBadSignature {
		t.Fatalf("another salt: %v", err)
	}
}
