package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/wechat"
	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
)

const (
	xpayCrashOrders = 24
	xpayCrashPrice  = 990
	xpayCrashKey    = "crash-xpay-sandbox-key"
)

// TestContentPaymentsSurviveSIGKILL: buyers pay for a course through
// WeChat virtual payment (the WeChat sandbox, outside the server process)
// while the server is killed with SIGKILL twice; the delivery pushes that
// found no server are retried after the restarts, a few are repeated on
// purpose. Every order WeChat holds the money for ends paid exactly once,
// with one entitlement and one "paid" event, and WeChat shows each
// delivered.
func TestContentPaymentsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes; run without -short")
	}
	for _, engine := range db.TestEngines() {
		t.Run(string(engine), func(t *testing.T) { xpayCrashAndRecover(t, db.TestDSN(t, engine)) })
	}
}

type xpayShop struct {
	appid  string
	buyers []string // tokens
	openid []string
	course int64
}

func xpayCrashAndRecover(t *testing.T, dsn string) {
	wx := sandbox.New()
	wxSrv := httptest.NewServer(wx)
	defer wxSrv.Close()
	addr := freeAddr(t)
	args := []string{"serve", "--db", dsn, "--addr", addr, "--data", t.TempDir(), "--secret-key", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"--wechat-api", wxSrv.URL, "--public-url", "http://" + addr, "--admin-password", "operator-pass-1", "--require-totp=false", "--log-level", "error"}
	srv := &serverProc{t: t, args: args, addr: addr, dsn: dsn}
	srv.start()
	c := &apiClient{t: t, base: "http://" + addr}
	shop := c.setupXPayShop(wx)
	pays := make([]wechat.VirtualPaymentParams, xpayCrashOrders)
	for i := range pays {
		out := c.post("/api/v1/content/orders", shop.buyers[i], "", fmt.Sprintf(`{"items":[{"kind":"course","id":%d}],"platform":"android"}`, shop.course))
		b, _ := json.Marshal(out["payment"])
		if err := json.Unmarshal(b, &pays[i]); err != nil {
			t.Fatal(err)
		}
	}
	var paid atomic.Int32
	storm := make(chan struct{})
	go func() {
		defer close(storm)
		for i := range pays {
			time.Sleep(100 * time.Millisecond) // a stream of payments
			if _, err := wx.XPayPay(shop.appid, shop.openid[i], pays[i]); err == nil {
				paid.Add(1)
			} else {
				t.Errorf("payment %d: %v", i, err)
			}
		}
	}()
	d := srv.db()
	defer d.Close()
	for _, share := range []int32{xpayCrashOrders / 3, xpayCrashOrders * 2 / 3} { // kill while payments go on
		for deadline := time.Now().Add(30 * time.Second); paid.Load() < share && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		}
		srv.kill(d)
		srv.start()
	}
	<-storm
	if paid.Load() != xpayCrashOrders {
		t.Fatalf("WeChat took %d of %d payments", paid.Load(), xpayCrashOrders)
	}
	retried := redeliver(t, wx, shop.appid, dsn)
	if retried == 0 {
		t.Fatal("every push found a live server: the kills must cut some off")
	}
	for _, o := range wx.XPayOrders(shop.appid)[:3] { // WeChat repeats a few pushes on its own
		if _, err := wx.DuplicateXPayPush(shop.appid, o.OutTradeNo, 5); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d payments, %d pushes delivered only by WeChat's retries after the restarts", paid.Load(), retried)
	checkGrantedOnce(t, dsn, xpayCrashOrders)
	for _, o := range wx.XPayOrders(shop.appid) {
		if o.Status != 4 {
			t.Errorf("WeChat shows order %s with status %d, not delivered", o.OutTradeNo, o.Status)
		}
	}
}

// redeliver has WeChat retry the pushes it could not deliver until every
// order is paid here (30 s at most), and returns how many it delivered.
func redeliver(t *testing.T, wx *sandbox.Sandbox, appid, dsn string) int {
	d, err := db.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	total := 0
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		total += wx.DeliverXPayPushes(appid)
		var n int
		if err := d.QueryRow(context.Background(), `SELECT COUNT(*) FROM content_orders WHERE state = 'paid'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == xpayCrashOrders {
			return total
		}
	}
	t.Fatal("orders paid at WeChat are not paid here after 30 s of retries")
	return total
}

// checkGrantedOnce: want orders paid, each with one entitlement and one
// "paid" event.
func checkGrantedOnce(t *testing.T, dsn string, want int) {
	d, err := db.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	var paid, grants, events int
	if err := d.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM content_orders WHERE state = 'paid'),
		(SELECT COUNT(*) FROM content_entitlements WHERE source_ref LIKE 'xorder:%'),
		(SELECT COUNT(*) FROM content_order_events WHERE kind = 'paid')`).Scan(&paid, &grants, &events); err != nil {
		t.Fatal(err)
	}
	if paid != want || grants != want || events != want {
		t.Fatalf("%d orders paid, %d entitlements, %d paid events; want %d each", paid, grants, events, want)
	}
	var twice int
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT member_id FROM content_entitlements GROUP BY member_id HAVING COUNT(*) > 1) x`).Scan(&twice); err != nil {
		t.Fatal(err)
	}
	if twice != 0 {
		t.Fatalf("%d buyers hold the course twice: %s", twice, dumpRows(t, d, `SELECT member_id, source_ref FROM content_entitlements ORDER BY member_id`))
	}
}

// setupXPayShop creates a shop that sells a course through virtual payment
// (push settings, keys, an item at the course's price, at both ends) and
// logs its buyers in, through the API.
func (c *apiClient) setupXPayShop(wx *sandbox.Sandbox) xpayShop {
	appid := "wx00000000000c2a5f"
	wx.AddApp(appid, "crash-test-app-secret-0002")
	op := c.post("/admin/api/v1/auth/login", "", "", `{"username":"admin","password":"operator-pass-1"}`)["token"].(string)
	shop, _ := json.Marshal(map[string]any{"name": "虚拟支付崩溃测试店", "appid": appid, "subject_type": "enterprise",
		"secrets": map[string]string{"app_secret": "crash-test-app-secret-0002", "push_token": "crashPushToken1",
			"push_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}})
	id := int64(c.post("/admin/api/v1/shops", op, "", string(shop))["id"].(float64))
	c.post("/admin/api/v1/staff", op, fmt.Sprintf("X-Shop-Id:%d", id), `{"username":"xpay_owner","password":"owner-pass-1","role":"owner"}`)
	owner := c.post("/admin/api/v1/auth/login", "", "", `{"username":"xpay_owner","password":"owner-pass-1"}`)["token"].(string)
	course := int64(c.post("/admin/api/v1/content/courses", owner, "", fmt.Sprintf(`{"kind":"course","title":"崩溃课","price_fen":%d,
		"for_sale":true,"status":"published"}`, xpayCrashPrice))["id"].(float64))
	c.send("PUT", "/admin/api/v1/content-sale/settings", owner, "", fmt.Sprintf(`{"offer_id":"1450000002","sandbox_app_key":%q,"env":1,"refund_days":3}`, xpayCrashKey))
	c.post("/admin/api/v1/content-sale/items", owner, "", fmt.Sprintf(`{"item_id":"tier_%d","price_fen":%d,"name":"档位"}`, xpayCrashPrice, xpayCrashPrice))
	wx.SetXPayKeys(appid, wechat.XPayKeys{OfferID: "1450000002", SandboxAppKey: xpayCrashKey})
	if err := wx.AddXPayItem(appid, fmt.Sprintf("tier_%d", xpayCrashPrice), xpayCrashPrice); err != nil {
		c.t.Fatal(err)
	}
	wx.SetPushTarget(appid, sandbox.PushTarget{URL: fmt.Sprintf("%s/webhooks/wechat/%d/push", c.base, id), Token: "crashPushToken1",
		EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"})
	s := xpayShop{appid: appid, course: course}
	for i := range xpayCrashOrders {
		openid := fmt.Sprintf("o-xpay-crash-%02d", i)
		code, _ := wx.LoginCode(appid, openid, "")
		s.buyers = append(s.buyers, c.post("/api/v1/auth/login", "", "X-Appid:"+appid, fmt.Sprintf(`{"code":%q}`, code))["token"].(string))
		s.openid = append(s.openid, openid)
	}
	return s
}
