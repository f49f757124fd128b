package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

// TestMain lets the test binary act as `kaidian` when re-executed with
// KAIDIAN_TEST_SERVE=1, so a test can run (and kill) a real server process.
func TestMain(m *testing.M) {
	if os.Getenv("KAIDIAN_TEST_SERVE") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		err := run(ctx, os.Args[1:], os.Stdout, os.Getenv)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestPaymentsSurviveSIGKILL kills the server with SIGKILL while payment
// notifications arrive. After a restart, every order paid at WeChat is paid
// here, exactly once.
func TestPaymentsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes; run without -short")
	}
	for _, engine := range db.TestEngines() {
		t.Run(string(engine), func(t *testing.T) { crashAndRecover(t, db.TestDSN(t, engine)) })
	}
}

func crashAndRecover(t *testing.T, dsn string) {
	wx := sandbox.New()
	wxSrv := httptest.NewServer(wx)
	defer wxSrv.Close()
	pay, err := paysandbox.New()
	if err != nil {
		t.Fatal(err)
	}
	defer pay.Close()
	paySrv := httptest.NewServer(pay)
	defer paySrv.Close()
	addr := freeAddr(t)
	args := []string{"serve", "--db", dsn, "--addr", addr, "--data", t.TempDir(), "--secret-key", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"--wechat-api", wxSrv.URL, "--wechatpay-api", paySrv.URL, "--public-url", "http://" + addr, "--admin-password", "operator-pass-1",
		"--pay-query-after", "1s", "--log-level", "error"}
	first := startServer(t, args, addr)
	c := &apiClient{t: t, base: "http://" + addr}
	shop := c.setupShop(wx, pay)
	const orders = 30
	ids, params := make([]int64, orders), make([]map[string]any, orders)
	for i := range ids {
		ids[i] = c.order(shop, fmt.Sprintf("crash-order-%04d", i))
		params[i] = c.post(fmt.Sprintf("/api/v1/orders/%d/pay", ids[i]), shop.buyer, "", "")
	}

	unpaid := c.order(shop, "crash-unpaid-0001") // never paid: its auto-cancel job must outlive the kill
	var paidAtWeChat, delivered atomic.Int32
	killed := killWhenPaid(t, dsn, first, orders/3)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 30 * time.Millisecond) // a stream of payments
			b, _ := json.Marshal(params[i])
			var p paysandbox.PaymentParams
			json.Unmarshal(b, &p)
			if d, err := pay.PayWithParams(context.Background(), shop.appid, p); err == nil {
				paidAtWeChat.Add(1)
				if d.Delivered {
					delivered.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	<-killed
	startServer(t, args, addr)
	want := int(paidAtWeChat.Load())
	if want != orders || delivered.Load() == int32(want) || delivered.Load() == 0 {
		t.Fatalf("the sandbox took %d of %d payments and delivered %d notifications: the kill must cut some off", want, orders, delivered.Load())
	}
	t.Logf("%d payments at WeChat, %d notifications delivered before the kill", want, delivered.Load())
	checkAutoCancel(t, dsn, unpaid)
	checkPaidOnce(t, dsn, want)
}

// killWhenPaid SIGKILLs the server once n orders are paid: notifications
// are arriving then, and the rest arrive at a dead server.
func killWhenPaid(t *testing.T, dsn string, server *exec.Cmd, n int) <-chan struct{} {
	done := make(chan struct{})
	d, err := db.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(done)
		defer d.Close()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			var paid int
			d.QueryRow(context.Background(), `SELECT COUNT(*) FROM orders WHERE status = 'paid'`).Scan(&paid)
			if paid >= n {
				break
			}
		}
		server.Process.Kill()
		server.Wait()
	}()
	return done
}

// checkAutoCancel brings the unpaid order's deadline forward and waits for
// the restarted server to cancel it with the job queued before the kill.
func checkAutoCancel(t *testing.T, dsn string, orderID int64) {
	d, err := db.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	if _, err := d.Exec(ctx, `UPDATE jobs SET run_at = 0 WHERE unique_key = ?`, fmt.Sprintf("order-cancel:%d", orderID)); err != nil {
		t.Fatal(err)
	}
	var status string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && status != "cancelled"; time.Sleep(100 * time.Millisecond) {
		d.QueryRow(ctx, `SELECT status FROM orders WHERE id = ?`, orderID).Scan(&status)
	}
	if status != "cancelled" {
		t.Fatalf("the unpaid order is %q after the restarted server's auto-cancel", status)
	}
}

// checkPaidOnce waits until want orders are paid and checks each was paid
// exactly once, with its stock deducted once.
func checkPaidOnce(t *testing.T, dsn string, want int) {
	d, err := db.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	var paid, events, deducts, locked int
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		d.QueryRow(ctx, `SELECT COUNT(*) FROM orders WHERE status = 'paid'`).Scan(&paid)
		if paid == want {
			break
		}
	}
	d.QueryRow(ctx, `SELECT COUNT(*) FROM order_events WHERE to_status = 'paid'`).Scan(&events)
	d.QueryRow(ctx, `SELECT COUNT(*) FROM stock_ledger WHERE kind = 'deduct'`).Scan(&deducts)
	d.QueryRow(ctx, `SELECT COALESCE(SUM(locked), 0) FROM skus`).Scan(&locked)
	if paid != want || events != want || deducts != want || locked != 0 {
		t.Fatalf("paid %d, paid events %d, stock deductions %d, still locked %d; want %d, %d, %d, 0", paid, events, deducts, locked, want, want, want)
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer runs this test binary as `kaidian serve` and waits for /readyz.
func startServer(t *testing.T, args []string, addr string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "KAIDIAN_TEST_SERVE=1")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if res, err := http.Get("http://" + addr + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return cmd
			}
		}
	}
	t.Fatal("the server did not become ready")
	return nil
}

type apiClient struct {
	t    *testing.T
	base string
}

type crashShop struct {
	appid, owner, buyer string
	sku                 int64
}

func (c *apiClient) post(path, token, key, body string) map[string]any {
	return c.send("POST", path, token, key, body)
}

func (c *apiClient) send(method, path, token, key, body string) map[string]any {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set(strings.SplitN(key, ":", 2)[0], strings.SplitN(key, ":", 2)[1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var m map[string]any
	if res.StatusCode >= 300 || json.Unmarshal(data, &m) != nil {
		c.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, data)
	}
	return m
}

// setupShop creates a shop with WeChat Pay, an owner, a product with one
// SKU of 1000 units and a logged-in buyer, through the API.
func (c *apiClient) setupShop(wx *sandbox.Sandbox, pay *paysandbox.Sandbox) crashShop {
	appid := "wx00000000000c2a5e"
	wx.AddApp(appid, "crash-test-app-secret-0001")
	cred, err := pay.NewMerchant("", appid)
	if err != nil {
		c.t.Fatal(err)
	}
	op := c.post("/admin/api/v1/auth/login", "", "", `{"username":"admin","password":"operator-pass-1"}`)["token"].(string)
	shop, _ := json.Marshal(map[string]any{"name": "崩溃测试店", "appid": appid, "subject_type": "enterprise", "mch_id": cred.MchID,
		"mch_cert_serial": cred.CertSerial, "secrets": map[string]string{"app_secret": "crash-test-app-secret-0001",
			"mch_private_key": cred.PrivateKeyPEM, "apiv3_key": cred.APIv3Key, "platform_cert": cred.Platform.CertificatePEM}})
	id := int64(c.post("/admin/api/v1/shops", op, "", string(shop))["id"].(float64))
	c.post("/admin/api/v1/staff", op, fmt.Sprintf("X-Shop-Id:%d", id), `{"username":"crash_owner","password":"owner-pass-1","role":"owner"}`)
	owner := c.post("/admin/api/v1/auth/login", "", "", `{"username":"crash_owner","password":"owner-pass-1"}`)["token"].(string)
	cat := int64(c.post("/admin/api/v1/categories", owner, "", `{"name":"测试"}`)["id"].(float64))
	p := c.post("/admin/api/v1/products", owner, "", fmt.Sprintf(`{"category_id":%d,"title":"测试商品","on_shelf":true,
		"skus":[{"spec_values":[],"price":1990,"stock":1000}]}`, cat))
	sku := int64(p["skus"].([]any)[0].(map[string]any)["id"].(float64))
	code, _ := wx.LoginCode(appid, "o-crash-buyer", "")
	buyer := c.post("/api/v1/auth/login", "", "X-Appid:"+appid, fmt.Sprintf(`{"code":%q}`, code))["token"].(string)
	return crashShop{appid: appid, owner: owner, buyer: buyer, sku: sku}
}

func (c *apiClient) order(s crashShop, key string) int64 {
	body := fmt.Sprintf(`{"items":[{"sku_id":%d,"quantity":1}],"address":{"name":"张三","phone":"13800138000","province":"浙江省",
		"city":"杭州市","district":"西湖区","detail":"文三路 1 号"}}`, s.sku)
	return int64(c.post("/api/v1/orders", s.buyer, "Idempotency-Key:"+key, body)["id"].(float64))
}
