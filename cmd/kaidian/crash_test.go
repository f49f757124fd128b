package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

// TestMain lets the test binary act as `kaidian` when re-executed with
// KAIDIAN_TEST_SERVE=1, so a test can run (and kill) a real server process,
// and as WeChat Pay (the pay sandbox, in its own process) with
// KAIDIAN_TEST_PAYSANDBOX=address.
func TestMain(m *testing.M) {
	if addr := os.Getenv("KAIDIAN_TEST_PAYSANDBOX"); addr != "" {
		if err := servePaySandbox(addr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
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

// servePaySandbox serves the pay sandbox on addr, plus GET /test/refunds:
// every refund it holds.
func servePaySandbox(addr string) error {
	pay, err := paysandbox.New()
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /test/refunds", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(pay.RefundRecords())
	})
	mux.Handle("/", pay)
	return http.ListenAndServe(addr, mux)
}

// TestPaymentsSurviveSIGKILL runs WeChat Pay (the pay sandbox) as its own
// process and kills the server with SIGKILL four times: three times while
// a storm of payments and their notifications arrives, once while staff
// request refunds (and repeat them, with the same Idempotency-Key, when
// the server does not answer). After the restarts every order paid at
// WeChat is paid here exactly once, with its payment row and payment
// event, and no refund was made twice.
func TestPaymentsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes; run without -short")
	}
	for _, engine := range db.TestEngines() {
		t.Run(string(engine), func(t *testing.T) { crashAndRecover(t, db.TestDSN(t, engine)) })
	}
}

const (
	crashOrders  = 60
	crashRefunds = 16
	crashPrice   = 1990
)

func crashAndRecover(t *testing.T, dsn string) {
	wx := sandbox.New()
	wxSrv := httptest.NewServer(wx)
	defer wxSrv.Close()
	payURL := startPaySandbox(t)
	addr := freeAddr(t)
	args := []string{"serve", "--db", dsn, "--addr", addr, "--data", t.TempDir(), "--secret-key", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"--wechat-api", wxSrv.URL, "--wechatpay-api", payURL, "--public-url", "http://" + addr, "--admin-password", "operator-pass-1", "--require-totp=false",
		"--pay-query-after", "1s", "--log-level", "error"}
	srv := &serverProc{t: t, args: args, addr: addr, dsn: dsn}
	srv.start()
	c := &apiClient{t: t, base: "http://" + addr}
	shop := c.setupShop(wx, payURL)
	ids, params := make([]int64, crashOrders), make([]map[string]any, crashOrders)
	for i := range ids {
		ids[i] = c.order(shop, fmt.Sprintf("crash-order-%04d", i))
		params[i] = c.post(fmt.Sprintf("/api/v1/orders/%d/pay", ids[i]), shop.buyer, "", "")
	}
	unpaid := c.order(shop, "crash-unpaid-0001") // never paid: its auto-cancel job must outlive the kills

	var paidAtWeChat, delivered atomic.Int32
	storm := make(chan struct{})
	go func() {
		defer close(storm)
		for i := range ids {
			time.Sleep(40 * time.Millisecond) // a stream of payments
			var d paysandbox.Delivery
			if controlPost(payURL+"/sandbox/pay/request-payment", map[string]any{"appid": shop.appid, "params": params[i]}, &d) == nil {
				paidAtWeChat.Add(1)
				if d.Delivered {
					delivered.Add(1)
				}
			}
		}
	}()
	srv.killWhen(func(paid int) bool { return paid >= crashOrders/5 })
	srv.start()
	srv.killWhen(func(paid int) bool { return paid >= crashOrders/2 })
	srv.start()
	srv.killWhen(func(paid int) bool { return paid >= crashOrders*4/5 })
	srv.start()
	<-storm
	want := int(paidAtWeChat.Load())
	if want != crashOrders || delivered.Load() == int32(want) || delivered.Load() == 0 {
		t.Fatalf("the sandbox took %d of %d payments and delivered %d notifications: the kills must cut some off", want, crashOrders, delivered.Load())
	}
	t.Logf("%d payments at WeChat, %d notifications delivered to a live server", want, delivered.Load())
	checkPaidOnce(t, dsn, want)

	refundStorm(t, c, shop, srv, ids[:crashRefunds])
	checkAutoCancel(t, dsn, unpaid)
	checkPaymentRecords(t, dsn)
	checkRefundedOnce(t, dsn, payURL, shop.mchid)
}

// refundStorm requests a full refund of each order, each under its own
// Idempotency-Key, repeating a request the server did not answer; the
// server is killed once a few refunds exist. Then WeChat completes them.
func refundStorm(t *testing.T, c *apiClient, shop crashShop, srv *serverProc, ids []int64) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i, id := range ids {
			c.postRetry(fmt.Sprintf("/admin/api/v1/orders/%d/refunds", id), shop.owner, fmt.Sprintf("Idempotency-Key:crash-refund-%04d", i),
				fmt.Sprintf(`{"amount":%d,"reason":"crash test"}`, crashPrice))
		}
	}()
	srv.killWhenSQL(`SELECT COUNT(*) FROM refunds`, func(n int) bool { return n >= len(ids)/3 })
	srv.start()
	<-done
	d := srv.db()
	defer d.Close()
	ctx := context.Background()
	var outRefundNos []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		outRefundNos = outRefundNos[:0]
		rows, err := d.Query(ctx, `SELECT out_refund_no FROM refunds WHERE status = 'processing'`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var no string
			rows.Scan(&no)
			outRefundNos = append(outRefundNos, no)
		}
		rows.Close()
		if len(outRefundNos) == len(ids) {
			break
		}
	}
	if len(outRefundNos) != len(ids) {
		t.Fatalf("%d refunds accepted by WeChat, want %d; refunds: %s; their jobs: %s", len(outRefundNos), len(ids),
			dumpRows(t, d, `SELECT id, status, last_error FROM refunds ORDER BY id`),
			dumpRows(t, d, `SELECT id, kind, state, attempts, run_at, locked_until, last_error FROM jobs WHERE kind LIKE 'refund%' ORDER BY id`))
	}
	for _, no := range outRefundNos {
		if err := controlPost(c.payURL+"/sandbox/pay/complete-refund", map[string]any{"mchid": shop.mchid, "out_refund_no": no, "status": "SUCCESS"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var closed int
		d.QueryRow(ctx, `SELECT COUNT(*) FROM orders WHERE status = 'refunded'`).Scan(&closed)
		if closed == len(ids) {
			return
		}
	}
	t.Fatalf("the refunded orders did not all become refunded")
}

// dumpRows renders a query's rows for a failure message.
func dumpRows(t *testing.T, d *db.DB, query string) string {
	rows, err := d.Query(context.Background(), query)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err.Error()
		}
		fmt.Fprintf(&b, "%v; ", vals)
	}
	return b.String()
}

// serverProc is the kaidian server process of a crash test.
type serverProc struct {
	t    *testing.T
	args []string
	addr string
	dsn  string
	cmd  *exec.Cmd
}

func (s *serverProc) start() { s.cmd = startServer(s.t, s.args, s.addr) }

func (s *serverProc) db() *db.DB {
	d, err := db.Open(context.Background(), s.dsn)
	if err != nil {
		s.t.Fatal(err)
	}
	return d
}

// killWhen SIGKILLs the server once cond holds for the number of paid
// orders (or after 30 s) and waits for it to die.
func (s *serverProc) killWhen(cond func(paid int) bool) {
	s.killWhenSQL(`SELECT COUNT(*) FROM orders WHERE status = 'paid'`, cond)
}

func (s *serverProc) killWhenSQL(query string, cond func(n int) bool) {
	d := s.db()
	defer d.Close()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		var n int
		d.QueryRow(context.Background(), query).Scan(&n)
		if cond(n) {
			break
		}
	}
	s.kill(d)
}

// kill SIGKILLs the server and waits for it to die; its running jobs are
// made free to retake at once.
func (s *serverProc) kill(d *db.DB) {
	s.cmd.Process.Kill()
	s.cmd.Wait()
	// The dead process's running jobs are retaken when their lease expires
	// (30 seconds, no longer renewed): let that time pass.
	if _, err := d.Exec(context.Background(), `UPDATE jobs SET locked_until = 0 WHERE state = 'running'`); err != nil {
		s.t.Fatal(err)
	}
}

func startPaySandbox(t *testing.T) string {
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "KAIDIAN_TEST_PAYSANDBOX="+addr)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := "http://" + addr
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if controlPost(url+"/sandbox/pay/platform", map[string]any{}, nil) == nil {
			return url
		}
	}
	t.Fatal("the pay sandbox did not start")
	return ""
}

// controlPost calls a pay sandbox control and decodes its answer into out.
func controlPost(url string, body any, out any) error {
	b, _ := json.Marshal(body)
	res, err := http.Post(url, "application/json", strings.NewReader(string(b)))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return fmt.Errorf("%s: %d %s", url, res.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
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
	if paid != want || events != want || deducts != want || locked != 1 { // the unpaid order holds 1
		t.Fatalf("paid %d, paid events %d, stock deductions %d, still locked %d; want %d, %d, %d, 1", paid, events, deducts, locked, want, want, want)
	}
}

// checkPaymentRecords: every paid order has its payments row paid with
// the order's transaction and exactly one payment event.
func checkPaymentRecords(t *testing.T, dsn string) {
	d, err := db.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var bad int
	err = d.QueryRow(context.Background(), `SELECT COUNT(*) FROM orders o WHERE o.paid_at IS NOT NULL AND (
		NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.status = 'paid' AND p.transaction_id = o.transaction_id)
		OR (SELECT COUNT(*) FROM payment_events e WHERE e.order_id = o.id AND e.transaction_id = o.transaction_id) <> 1)`).Scan(&bad)
	if err != nil || bad != 0 {
		t.Fatalf("%d paid orders without a paid payment row and exactly one payment event (%v)", bad, err)
	}
}

// checkRefundedOnce: one refund per Idempotency-Key here, one per refund
// at WeChat, and nowhere more than was paid.
func checkRefundedOnce(t *testing.T, dsn, payURL, mchid string) {
	d, err := db.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	var refunds, keys, over int
	d.QueryRow(ctx, `SELECT COUNT(*), COUNT(DISTINCT idempotency_key) FROM refunds`).Scan(&refunds, &keys)
	d.QueryRow(ctx, `SELECT COUNT(*) FROM orders o WHERE (SELECT COALESCE(SUM(amount), 0) FROM refunds r WHERE r.order_id = o.id) > o.paid_amount`).Scan(&over)
	if refunds != crashRefunds || keys != crashRefunds || over != 0 {
		t.Fatalf("%d refunds under %d keys, %d orders refunded beyond what was paid; want %d, %d, 0", refunds, keys, over, crashRefunds, crashRefunds)
	}
	res, err := http.Get(payURL + "/test/refunds")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var at []paysandbox.RefundRecord
	if err := json.NewDecoder(res.Body).Decode(&at); err != nil {
		t.Fatal(err)
	}
	perOrder := map[string]int64{}
	for _, r := range at {
		if r.MchID == mchid {
			perOrder[r.OutTradeNo] += r.Amount
		}
	}
	if len(at) != crashRefunds || len(perOrder) != crashRefunds {
		t.Fatalf("WeChat holds %d refunds on %d orders; want %d on %d", len(at), len(perOrder), crashRefunds, crashRefunds)
	}
	for no, sum := range perOrder {
		if sum > crashPrice {
			t.Fatalf("order %s refunded %d of %d at WeChat", no, sum, crashPrice)
		}
	}
}

func freeAddr(t *testing.T) string {
	addr, err := loopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
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
	t      *testing.T
	base   string
	payURL string
}

type crashShop struct {
	appid, mchid, owner, buyer string
	sku                        int64
}

func (c *apiClient) post(path, token, key, body string) map[string]any {
	return c.send("POST", path, token, key, body)
}

// postRetry repeats a POST the server did not answer (killed, restarting)
// until it answers 2xx, for up to 60 s.
func (c *apiClient) postRetry(path, token, key, body string) {
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		status, _, err := c.try("POST", path, token, key, body)
		if err == nil && status < 300 {
			return
		}
		if err == nil && status < 500 && status != 429 {
			c.t.Errorf("POST %s: %d", path, status)
			return
		}
	}
	c.t.Errorf("POST %s: no answer for 60 s", path)
}

func (c *apiClient) try(method, path, token, key, body string) (int, []byte, error) {
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
		return 0, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return res.StatusCode, data, err
}

func (c *apiClient) send(method, path, token, key, body string) map[string]any {
	c.t.Helper()
	status, data, err := c.try(method, path, token, key, body)
	if err != nil {
		c.t.Fatal(err)
	}
	var m map[string]any
	if status >= 300 || json.Unmarshal(data, &m) != nil {
		c.t.Fatalf("%s %s: %d %s", method, path, status, data)
	}
	return m
}

// setupShop creates a shop with WeChat Pay (a merchant made at the pay
// sandbox process), an owner, a product with one SKU of 1000 units and a
// logged-in buyer, through the API.
func (c *apiClient) setupShop(wx *sandbox.Sandbox, payURL string) crashShop {
	appid := "wx00000000000c2a5e"
	wx.AddApp(appid, "crash-test-app-secret-0001")
	var cred paysandbox.Credentials
	if err := controlPost(payURL+"/sandbox/pay/merchant", map[string]any{"appid": appid}, &cred); err != nil {
		c.t.Fatal(err)
	}
	c.payURL = payURL
	op := c.post("/admin/api/v1/auth/login", "", "", `{"username":"admin","password":"operator-pass-1"}`)["token"].(string)
	shop, _ := json.Marshal(map[string]any{"name": "崩溃测试店", "appid": appid, "subject_type": "enterprise", "mch_id": cred.MchID,
		"mch_cert_serial": cred.CertSerial, "secrets": map[string]string{"app_secret": "crash-test-app-secret-0001",
			"mch_private_key": cred.PrivateKeyPEM, "apiv3_key": cred.APIv3Key, "platform_cert": cred.Platform.CertificatePEM}})
	id := int64(c.post("/admin/api/v1/shops", op, "", string(shop))["id"].(float64))
	c.post("/admin/api/v1/staff", op, fmt.Sprintf("X-Shop-Id:%d", id), `{"username":"crash_owner","password":"owner-pass-1","role":"owner"}`)
	owner := c.post("/admin/api/v1/auth/login", "", "", `{"username":"crash_owner","password":"owner-pass-1"}`)["token"].(string)
	cat := int64(c.post("/admin/api/v1/categories", owner, "", `{"name":"测试"}`)["id"].(float64))
	p := c.post("/admin/api/v1/products", owner, "", fmt.Sprintf(`{"category_id":%d,"title":"测试商品","on_shelf":true,
		"skus":[{"spec_values":[],"price":%d,"stock":1000}]}`, cat, crashPrice))
	sku := int64(p["skus"].([]any)[0].(map[string]any)["id"].(float64))
	code, _ := wx.LoginCode(appid, "o-crash-buyer", "")
	buyer := c.post("/api/v1/auth/login", "", "X-Appid:"+appid, fmt.Sprintf(`{"code":%q}`, code))["token"].(string)
	return crashShop{appid: appid, mchid: cred.MchID, owner: owner, buyer: buyer, sku: sku}
}

func (c *apiClient) order(s crashShop, key string) int64 {
	body := fmt.Sprintf(`{"items":[{"sku_id":%d,"quantity":1}],"address":{"name":"张三","phone":"13800138000","province":"浙江省",
		"city":"杭州市","district":"西湖区","detail":"文三路 1 号"}}`, s.sku)
	return int64(c.post("/api/v1/orders", s.buyer, "Idempotency-Key:"+key, body)["id"].(float64))
}
