package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

// TestThreeProcessesOnOnePostgres runs three `kaidian serve` processes on
// one PostgreSQL database, as behind a load balancer without sticky
// sessions, and checks the invariants that must hold across processes:
// a flash sale whose buyers hit all three at once sells no more than its
// units and gives no buyer more than the limit, a cancelled flash order
// frees the buyer's claim on the process that remembers the claim, a
// group settlement raced by every process refunds each member once, and
// auto-cancel jobs raced by every process cancel each unpaid order and
// release its stock once, each job run by exactly one process.
func TestThreeProcessesOnOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes; run without -short")
	}
	if os.Getenv("KAIDIAN_TEST_POSTGRES") == "" {
		t.Skip("several processes share one database only on PostgreSQL: set KAIDIAN_TEST_POSTGRES")
	}
	dsn := db.TestDSN(t, db.Postgres)
	wx := sandbox.New()
	wxSrv := httptest.NewServer(wx)
	defer wxSrv.Close()
	payURL := startPaySandbox(t)
	cl := startCluster(t, dsn, wxSrv.URL, payURL, 3)
	shop := cl.at(0).setupShop(wx, payURL)
	for _, c := range cl.procs {
		c.payURL = payURL
	}
	buyers := cl.buyers(wx, shop.appid, 64)
	d, err := db.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	s := &scaleRun{t: t, cl: cl, shop: shop, d: d, payURL: payURL}

	t0 := time.Now()
	s.flashSaleStorm(buyers[:40])
	s.cancelFreesClaimEverywhere(buyers[40:43])
	t.Logf("flash sale: %s", time.Since(t0).Round(time.Millisecond))
	t1 := time.Now()
	s.groupSettlement(buyers[43:52])
	t.Logf("group settlement: %s", time.Since(t1).Round(time.Millisecond))
	t2 := time.Now()
	s.autoCancel(buyers[:30])
	t.Logf("auto-cancel: %s", time.Since(t2).Round(time.Millisecond))
	s.stockAddsUp()
}

// cluster is several kaidian processes on one database.
type cluster struct {
	t     *testing.T
	procs []*apiClient
}

func (c *cluster) at(i int) *apiClient { return c.procs[i%len(c.procs)] }

// startCluster starts n `kaidian serve` processes on dsn: the first alone
// (it creates the operator), then the others together.
func startCluster(t *testing.T, dsn, wxURL, payURL string, n int) *cluster {
	cl := &cluster{t: t}
	var cmds []*exec.Cmd
	var addrs []string
	for i := range n {
		addr := freeAddr(t)
		args := []string{"serve", "--db", dsn, "--addr", addr, "--data", t.TempDir(), "--secret-key", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
			"--wechat-api", wxURL, "--wechatpay-api", payURL, "--public-url", "http://" + addr, "--admin-password", "operator-pass-1", "--require-totp=false",
			"--log-level", "error", "--flash-per-address", "1000000"}
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), "KAIDIAN_TEST_SERVE=1")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		cmds, addrs = append(cmds, cmd), append(addrs, addr)
		if i == 0 {
			waitReady(t, addr)
		}
		cl.procs = append(cl.procs, &apiClient{t: t, base: "http://" + addr})
	}
	for _, addr := range addrs[1:] {
		waitReady(t, addr)
	}
	return cl
}

func waitReady(t *testing.T, addr string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if res, err := http.Get("http://" + addr + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
	}
	t.Fatalf("the server at %s did not become ready", addr)
}

// buyers logs n buyers in, each through the next process.
func (c *cluster) buyers(wx *sandbox.Sandbox, appid string, n int) []string {
	out := make([]string, n)
	for i := range out {
		code, _ := wx.LoginCode(appid, fmt.Sprintf("o-scale-buyer-%03d", i), "")
		out[i] = c.at(i).post("/api/v1/auth/login", "", "X-Appid:"+appid, fmt.Sprintf(`{"code":%q}`, code))["token"].(string)
	}
	return out
}

type scaleRun struct {
	t      *testing.T
	cl     *cluster
	shop   crashShop
	d      *db.DB
	payURL string
}

func (s *scaleRun) count(query string, args ...any) int64 {
	s.t.Helper()
	var n int64
	if err := s.d.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		s.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (s *scaleRun) exec(query string, args ...any) {
	s.t.Helper()
	if _, err := s.d.Exec(context.Background(), query, args...); err != nil {
		s.t.Fatalf("%s: %v", query, err)
	}
}

func (s *scaleRun) newSale(title string, qty, limit int) int64 {
	now := time.Now().UTC()
	body := fmt.Sprintf(`{"sku_id":%d,"title":%q,"price":990,"quantity":%d,"per_user_limit":%d,"pay_minutes":5,"starts_at":%q,"ends_at":%q}`,
		s.shop.sku, title, qty, limit, now.Format(time.RFC3339Nano), now.Add(time.Hour).Format(time.RFC3339Nano))
	return int64(s.cl.at(1).post("/admin/api/v1/flash-sales", s.shop.owner, "", body)["id"].(float64))
}

// claim asks process p for a token and then for qty units; it returns
// the status, the error code (or "") and the claim id.
func (s *scaleRun) claim(p int, buyer string, sale, qty int64) (int, string, int64) {
	s.t.Helper()
	tok := s.cl.at(p).send("GET", fmt.Sprintf("/api/v1/flash-sales/%d/token", sale), buyer, "", "")["token"].(string)
	return s.claimWith(p, buyer, sale, qty, tok)
}

func (s *scaleRun) claimWith(p int, buyer string, sale, qty int64, tok string) (int, string, int64) {
	status, data, err := s.cl.at(p).try("POST", fmt.Sprintf("/api/v1/flash-sales/%d/claim", sale), buyer, "", fmt.Sprintf(`{"quantity":%d,"token":%q}`, qty, tok))
	if err != nil {
		s.t.Errorf("claim: %v", err)
		return 0, "error", 0
	}
	var body struct {
		ID   int64  `json:"id"`
		Code string `json:"code"`
	}
	json.Unmarshal(data, &body)
	if status == 201 {
		return status, "", body.ID
	}
	return status, body.Code, 0
}

// flashSaleStorm: 40 buyers each send a claim for the limit (2 units) to
// all three processes at the same moment, one token each; 25 units.
func (s *scaleRun) flashSaleStorm(buyers []string) {
	t := s.t
	const units, limit = 25, 2
	sale := s.newSale("三进程秒杀", units, limit)
	if st, code, _ := s.claim(2, buyers[0], sale, limit+1); st != 400 || code != "over_limit" {
		t.Fatalf("a claim over the limit: %d %s", st, code)
	}
	tokens := make([]string, len(buyers))
	for i, b := range buyers {
		tokens[i] = s.cl.at(i).send("GET", fmt.Sprintf("/api/v1/flash-sales/%d/token", sale), b, "", "")["token"].(string)
	}
	time.Sleep(350 * time.Millisecond) // past the per-buyer gap of the over-limit try
	var mu sync.Mutex
	won := map[int]int{}    // buyer → 201 answers
	byProc := map[int]int{} // process → 201 answers
	codes := map[string]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, b := range buyers {
		for p := range s.cl.procs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				st, code, _ := s.claimWith(p, b, sale, limit, tokens[i])
				mu.Lock()
				defer mu.Unlock()
				codes[code]++
				if st == 201 {
					won[i]++
					byProc[p]++
				} else if st >= 500 || st == 0 {
					t.Errorf("claim on process %d: %d %s", p, st, code)
				}
			}()
		}
	}
	close(start)
	wg.Wait()
	t.Logf("flash claims: outcomes %v, won per process %v", codes, byProc)
	for i, n := range won {
		if n > 1 {
			t.Errorf("buyer %d was told yes %d times", i, n)
		}
	}
	ctx := context.Background()
	var claims, sold, holders, remaining, overLimit int64
	err := s.d.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(quantity), 0), COUNT(DISTINCT member_id),
		(SELECT remaining FROM flash_sales WHERE id = ?),
		(SELECT COUNT(*) FROM (SELECT member_id FROM flash_claims WHERE sale_id = ? AND status <> 'expired' GROUP BY member_id HAVING SUM(quantity) > ?) x)
		FROM flash_claims WHERE sale_id = ? AND status <> 'expired'`, sale, sale, limit, sale).Scan(&claims, &sold, &holders, &remaining, &overLimit)
	if err != nil {
		t.Fatal(err)
	}
	// 12 buyers of 2 units: the 25th unit cannot go to anyone asking for 2.
	if claims != int64(len(won)) || holders != claims || overLimit != 0 || sold != 24 || remaining != units-sold {
		t.Fatalf("%d claims (%d buyers told yes) of %d units for %d buyers, %d over the limit, %d left; want 12 claims of 24 units, 1 left",
			claims, len(won), sold, holders, overLimit, remaining)
	}
}

// cancelFreesClaimEverywhere: buyer p claims on process p, orders on p+1
// and cancels on p+2; then process p, which remembers the claim, must let
// the buyer claim again at once, and every process must refuse a second
// live claim.
func (s *scaleRun) cancelFreesClaimEverywhere(buyers []string) {
	t := s.t
	sale := s.newSale("取消后再抢", 50, 1)
	for p, b := range buyers {
		st, code, claimID := s.claim(p, b, sale, 1)
		if st != 201 {
			t.Fatalf("first claim on process %d: %d %s", p, st, code)
		}
		order := s.cl.at(p+1).send("POST", "/api/v1/orders", b, fmt.Sprintf("Idempotency-Key:scale-flash-%d", p),
			fmt.Sprintf(`{"flash_claim_id":%d,"address":{"name":"张三","phone":"13800138000","province":"浙江省","city":"杭州市","district":"西湖区","detail":"文三路 1 号"}}`, claimID))
		orderID := int64(order["id"].(float64))
		for _, q := range []int{p, p + 1, p + 2} {
			time.Sleep(310 * time.Millisecond) // the per-buyer gap of each process
			if st, code, _ := s.claim(q, b, sale, 1); st != 409 || code != "already_claimed" {
				t.Fatalf("buyer %d holding an ordered claim claims on process %d: %d %s", p, q%3, st, code)
			}
		}
		s.cl.at(p+2).post(fmt.Sprintf("/api/v1/orders/%d/cancel", orderID), b, "", `{}`)
		time.Sleep(310 * time.Millisecond)
		if st, code, _ := s.claim(p, b, sale, 1); st != 201 {
			t.Fatalf("after the order was cancelled on process %d, process %d still refuses the buyer: %d %s", (p+2)%3, p, st, code)
		}
		for _, q := range []int{p + 1, p + 2} {
			time.Sleep(310 * time.Millisecond)
			if st, code, _ := s.claim(q, b, sale, 1); st != 409 || code != "already_claimed" {
				t.Fatalf("the new claim is not seen by process %d: %d %s", q%3, st, code)
			}
		}
	}
	live := s.count(`SELECT COUNT(*) FROM flash_claims WHERE sale_id = ? AND status = 'held'`, sale)
	expired := s.count(`SELECT COUNT(*) FROM flash_claims WHERE sale_id = ? AND status = 'expired'`, sale)
	remaining := s.count(`SELECT remaining FROM flash_sales WHERE id = ?`, sale)
	if live != 3 || expired != 3 || remaining != 47 {
		t.Fatalf("live claims %d, expired %d, remaining %d; want 3, 3, 47", live, expired, remaining)
	}
}

// pay pays an order: prepay through process p, then WeChat (the pay
// sandbox) pays and notifies that process.
func (s *scaleRun) pay(p int, buyer string, orderID int64) {
	s.t.Helper()
	params := s.cl.at(p).post(fmt.Sprintf("/api/v1/orders/%d/pay", orderID), buyer, "", "")
	var d paysandbox.Delivery
	if err := controlPost(s.payURL+"/sandbox/pay/request-payment", map[string]any{"appid": s.shop.appid, "params": params}, &d); err != nil || !d.Delivered {
		s.t.Fatalf("pay order %d: %v %+v", orderID, err, d)
	}
}

func (s *scaleRun) waitFor(what string, within time.Duration, cond func() bool) {
	s.t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	s.t.Fatalf("timed out waiting for %s", what)
}

// groupSettlement: two groups fail (only the leader paid: a full refund)
// and two reach the 3-person tier (each of 3 paid members gets ¥20
// back; an unpaid fourth seat is cancelled). Every process races to
// settle every group (three settle jobs per group, plus the periodic
// close); each paid member is refunded exactly once, here and at WeChat.
func (s *scaleRun) groupSettlement(buyers []string) {
	t := s.t
	now := time.Now().UTC()
	deal := int64(s.cl.at(2).post("/admin/api/v1/group-deals", s.shop.owner, "", fmt.Sprintf(`{"sku_id":%d,"title":"三进程拼团",
		"tiers":[{"size":2,"price":1790},{"size":3,"price":1590},{"size":4,"price":1390}],"duration_minutes":30,"allow_virtual":false,
		"starts_at":%q,"ends_at":%q}`, s.shop.sku, now.Add(-time.Minute).Format(time.RFC3339Nano), now.Add(time.Hour).Format(time.RFC3339Nano)))["id"].(float64))
	addr := `"address":{"name":"张三","phone":"13800138000","province":"浙江省","city":"杭州市","district":"西湖区","detail":"文三路 1 号"}`
	var groups, paid, failedOrders, succeededOrders []int64
	next := 0
	seat := func(body string) (int64, int64, string) {
		b := buyers[next]
		next++
		o := s.cl.at(next).post("/api/v1/orders", b, fmt.Sprintf("Idempotency-Key:scale-group-%d", next), body)
		return int64(o["id"].(float64)), int64(o["group_id"].(float64)), b
	}
	for g := range 4 {
		leaderOrder, group, leader := seat(fmt.Sprintf(`{"group_deal_id":%d,%s}`, deal, addr))
		groups = append(groups, group)
		s.pay(g, leader, leaderOrder)
		orders := []int64{leaderOrder}
		if g >= 2 {
			for j := range 2 {
				o, _, b := seat(fmt.Sprintf(`{"group_id":%d,%s}`, group, addr))
				s.pay(g+j+1, b, o)
				orders = append(orders, o)
			}
			if g == 3 {
				seat(fmt.Sprintf(`{"group_id":%d,%s}`, group, addr)) // never paid
			}
			succeededOrders = append(succeededOrders, orders...)
		} else {
			failedOrders = append(failedOrders, orders...)
		}
		paid = append(paid, orders...)
	}
	s.waitFor("the group orders to be paid", 20*time.Second, func() bool {
		return s.count(`SELECT COUNT(*) FROM orders WHERE group_id IS NOT NULL AND status = 'paid'`) == int64(len(paid))
	})
	// Every group falls due; each process gets settle jobs for every group.
	for _, g := range groups {
		s.exec(`UPDATE group_buys SET expires_at = 1 WHERE id = ?`, g)
		for range 3 {
			s.exec(`INSERT INTO jobs (kind, shop_id, payload, max_attempts, run_at, created_at) VALUES ('group.settle', ?, ?, 10, 0, 0)`,
				s.count(`SELECT shop_id FROM group_buys WHERE id = ?`, g), fmt.Sprintf(`{"group_id":%d}`, g))
		}
	}
	s.waitFor("every paid member's refund to reach WeChat", 40*time.Second, func() bool {
		return s.count(`SELECT COUNT(*) FROM refunds WHERE status IN ('processing', 'succeeded')`) >= int64(len(paid))
	})
	s.waitFor("the settle jobs to finish", 20*time.Second, func() bool {
		return s.count(`SELECT COUNT(*) FROM jobs WHERE kind = 'group.settle' AND state <> 'done'`) == 0
	})
	if n := s.count(`SELECT COUNT(*) FROM group_buys WHERE status = 'failed'`); n != 2 {
		t.Fatalf("%d failed groups, want 2", n)
	}
	if n := s.count(`SELECT COUNT(*) FROM group_buys WHERE status = 'succeeded' AND tier_size = 3`); n != 2 {
		t.Fatalf("%d groups succeeded at the 3-person tier, want 2", n)
	}
	for _, id := range failedOrders {
		if n := s.count(`SELECT COUNT(*) FROM refunds r JOIN orders o ON o.id = r.order_id WHERE r.order_id = ? AND r.amount = o.paid_amount`, id); n != 1 ||
			s.count(`SELECT COUNT(*) FROM refunds WHERE order_id = ?`, id) != 1 {
			t.Fatalf("the failed group's order %d has %d full refunds (of %d refunds), want exactly 1", id, n, s.count(`SELECT COUNT(*) FROM refunds WHERE order_id = ?`, id))
		}
	}
	for _, id := range succeededOrders {
		if n := s.count(`SELECT COUNT(*) FROM refunds WHERE order_id = ? AND amount = 200`, id); n != 1 || s.count(`SELECT COUNT(*) FROM refunds WHERE order_id = ?`, id) != 1 {
			t.Fatalf("order %d at the 3-person tier has %d refunds of ¥2, want exactly 1 and no other", id, n)
		}
	}
	if n := s.count(`SELECT COUNT(*) FROM orders WHERE group_id IS NOT NULL AND status = 'cancelled'`); n != 1 {
		t.Fatalf("%d group orders cancelled, want the one unpaid seat", n)
	}
	if n := s.count(`SELECT COUNT(*) FROM jobs WHERE kind = 'group.settle' AND (state <> 'done' OR attempts <> 1)`); n != 0 {
		rows, _ := s.d.Query(context.Background(), `SELECT id, state, attempts, last_error FROM jobs WHERE kind = 'group.settle' AND (state <> 'done' OR attempts <> 1)`)
		for rows.Next() {
			var id, attempts int64
			var state, last string
			rows.Scan(&id, &state, &attempts, &last)
			t.Logf("job %d: %s after %d attempts: %s", id, state, attempts, last)
		}
		rows.Close()
		t.Fatalf("%d settle jobs not done by exactly one attempt", n)
	}
	// At WeChat: one refund per paid order, none twice.
	res, err := http.Get(s.payURL + "/test/refunds")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var at []paysandbox.RefundRecord
	if err := json.NewDecoder(res.Body).Decode(&at); err != nil {
		t.Fatal(err)
	}
	perOrder := map[string]int{}
	for _, r := range at {
		if r.MchID == s.shop.mchid {
			perOrder[r.OutTradeNo]++
		}
	}
	if len(perOrder) != len(paid) {
		t.Fatalf("WeChat holds refunds of %d orders, want %d", len(perOrder), len(paid))
	}
	for no, n := range perOrder {
		if n != 1 {
			t.Fatalf("WeChat refunded order %s %d times", no, n)
		}
	}
}

// autoCancel: 30 unpaid orders fall due at once, and each gets two more
// auto-cancel jobs (without the unique key that normally prevents them),
// so the three processes race on every order: each is cancelled once and
// its unit released once; each job was run by one process, once.
func (s *scaleRun) autoCancel(buyers []string) {
	t := s.t
	stock0 := s.count(`SELECT stock FROM skus WHERE id = ?`, s.shop.sku)
	var ids []int64
	for i, b := range buyers {
		c := s.cl.at(i)
		o := c.post("/api/v1/orders", b, fmt.Sprintf("Idempotency-Key:scale-unpaid-%d", i), fmt.Sprintf(`{"items":[{"sku_id":%d,"quantity":1}],
			"address":{"name":"张三","phone":"13800138000","province":"浙江省","city":"杭州市","district":"西湖区","detail":"文三路 1 号"}}`, s.shop.sku))
		ids = append(ids, int64(o["id"].(float64)))
	}
	if got := s.count(`SELECT stock FROM skus WHERE id = ?`, s.shop.sku); got != stock0-int64(len(ids)) {
		t.Fatalf("stock %d after %d orders, want %d", got, len(ids), stock0-int64(len(ids)))
	}
	for _, id := range ids {
		for range 2 {
			s.exec(`INSERT INTO jobs (kind, shop_id, payload, max_attempts, run_at, created_at) VALUES ('order.auto_cancel', ?, ?, 10, 0, 0)`,
				s.count(`SELECT shop_id FROM orders WHERE id = ?`, id), fmt.Sprintf(`{"order_id":%d}`, id))
		}
		s.exec(`UPDATE jobs SET run_at = 0 WHERE unique_key = ?`, fmt.Sprintf("order-cancel:%d", id))
	}
	s.waitFor("the unpaid orders to be cancelled", 30*time.Second, func() bool {
		return s.count(`SELECT COUNT(*) FROM orders WHERE status = 'cancelled' AND group_id IS NULL AND id >= ?`, ids[0]) == int64(len(ids))
	})
	s.waitFor("the auto-cancel jobs to finish", 20*time.Second, func() bool {
		return s.count(`SELECT COUNT(*) FROM jobs WHERE kind = 'order.auto_cancel' AND run_at = 0 AND state <> 'done'`) == 0
	})
	for _, id := range ids {
		events := s.count(`SELECT COUNT(*) FROM order_events WHERE order_id = ? AND to_status = 'cancelled'`, id)
		released := s.count(`SELECT COALESCE(SUM(quantity), 0) FROM stock_ledger WHERE order_id = ? AND kind = 'release'`, id)
		releases := s.count(`SELECT COUNT(*) FROM stock_ledger WHERE order_id = ? AND kind = 'release'`, id)
		if events != 1 || releases != 1 || released != 1 {
			t.Fatalf("order %d: %d cancel events, %d releases of %d units; want 1, 1, 1", id, events, releases, released)
		}
	}
	if got := s.count(`SELECT stock FROM skus WHERE id = ?`, s.shop.sku); got != stock0 {
		t.Fatalf("stock %d after the cancels, want %d back", got, stock0)
	}
	if n := s.count(`SELECT COUNT(*) FROM jobs WHERE kind = 'order.auto_cancel' AND run_at = 0 AND (attempts <> 1 OR locked_by = '')`); n != 0 {
		t.Fatalf("%d auto-cancel jobs not run exactly once", n)
	}
	workers := s.count(`SELECT COUNT(DISTINCT locked_by) FROM jobs WHERE kind = 'order.auto_cancel' AND run_at = 0`)
	t.Logf("%d auto-cancel jobs for %d orders run by %d processes", 3*len(ids), len(ids), workers)
	// Periodic jobs exist once in the cluster, not once per process.
	if n := s.count(`SELECT COUNT(*) FROM (SELECT kind FROM jobs WHERE unique_key LIKE 'every:%' AND state IN ('queued', 'running') GROUP BY kind HAVING COUNT(*) > 1) x`); n != 0 {
		t.Fatalf("%d periodic jobs queued more than once", n)
	}
}

// stockAddsUp: every unit of the SKU's 1000 is sellable, held (by the
// flash sales, unpaid orders) or sold, and what is held is exactly what
// the sales and the unpaid orders hold.
func (s *scaleRun) stockAddsUp() {
	t := s.t
	var stock, locked int64
	if err := s.d.QueryRow(context.Background(), `SELECT stock, locked FROM skus WHERE id = ?`, s.shop.sku).Scan(&stock, &locked); err != nil {
		t.Fatal(err)
	}
	sold := s.count(`SELECT COALESCE(SUM(l.quantity), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.paid_at IS NOT NULL`)
	onSale := s.count(`SELECT COALESCE(SUM(quantity), 0) FROM flash_sales`)
	unpaid := s.count(`SELECT COALESCE(SUM(l.quantity), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id
		WHERE o.status = 'pending_payment' AND l.flash_sale_id IS NULL`)
	if stock+locked+sold != 1000 || locked != onSale+unpaid {
		t.Fatalf("stock %d + locked %d + sold %d != 1000, or locked != %d on flash sales + %d in unpaid orders", stock, locked, sold, onSale, unpaid)
	}
}

// TestBenchFlashServeProcesses runs the scale-out benchmark small: two
// `kaidian serve` processes (this test binary) sell a flash sale over
// HTTP, the database check passes and the ratio to /healthz is printed.
func TestBenchFlashServeProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes; run without -short")
	}
	if os.Getenv("KAIDIAN_TEST_POSTGRES") == "" {
		t.Skip("--serve-processes needs PostgreSQL: set KAIDIAN_TEST_POSTGRES")
	}
	var out strings.Builder
	err := run(context.Background(), []string{"bench-flash", "--db", db.TestDSN(t, db.Postgres), "--no-engine", "--no-http",
		"--serve-processes", "2", "--http-buyers", "300", "--http-units", "40", "--clients", "16"}, &out, noenv)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"GET /healthz on 2 serve processes: 300 requests", "check: OK: 40 claims of 40 units for 40 buyers",
		"% of GET /healthz on the same processes"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("the output lacks %q:\n%s", want, out.String())
		}
	}
}
