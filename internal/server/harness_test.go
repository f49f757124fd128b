package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/account"
	"github.com/kaidian/kaidian/internal/config"
	"github.com/kaidian/kaidian/internal/platform/db"
	kdsandbox "github.com/kaidian/kaidian/internal/platform/kuaidi100/sandbox"
	smssandbox "github.com/kaidian/kaidian/internal/platform/sms/sandbox"
	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
	"github.com/kaidian/kaidian/internal/server"
)

// syncBuffer is a log sink tests can read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is one kaidian server on a fresh database, with a WeChat sandbox
// and a WeChat Pay sandbox.
type env struct {
	t       testing.TB
	srv     *server.Server
	ts      *httptest.Server
	sandbox *sandbox.Sandbox
	pay     *paysandbox.Sandbox
	parcels *kdsandbox.Sandbox // 快递100
	payURL  string             // where the pay sandbox serves
	logs    *syncBuffer
	dsn     string
	sms     *smssandbox.Sandbox // Aliyun's and Tencent's SendSms
	extra   http.Header         // added to every request
	// seen, when set, is shown every request and its answer (the OpenAPI
	// test validates them against the document).
	seen func(req *http.Request, res response)
}

const operatorPassword = "operator-pass-1"

// newEnv starts a server on engine's test database. The sandbox and the
// database may be shared with another env (two server instances). args are
// more settings (flags).
func newEnv(t testing.TB, dsn string, sb *sandbox.Sandbox, args ...string) *env {
	t.Helper()
	return newEnvWith(t, dsn, sb, server.Options{}, args...)
}

// newEnvWith is newEnv with server options (what serve passes, say).
func newEnvWith(t testing.TB, dsn string, sb *sandbox.Sandbox, opts server.Options, args ...string) *env {
	t.Helper()
	if sb == nil {
		sb = sandbox.New()
	}
	sbServer := httptest.NewServer(sb)
	t.Cleanup(sbServer.Close)
	pay, err := paysandbox.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pay.Close)
	sb.UsePayments(pay)
	payServer := httptest.NewServer(pay)
	t.Cleanup(payServer.Close)
	parcels := kdsandbox.New()
	parcelServer := httptest.NewServer(parcels)
	t.Cleanup(parcelServer.Close)
	smsSB := smssandbox.New()
	if opts.SMS == nil {
		smsServer := httptest.NewServer(smsSB)
		t.Cleanup(smsServer.Close)
		opts.SMS = smsSB.Client(smsServer.URL)
	}
	ts := httptest.NewUnstartedServer(nil)
	ts.URL = "http://" + ts.Listener.Addr().String()
	logs := &syncBuffer{}
	cfg, err := config.Load("test", append([]string{"--data", t.TempDir(), "--db", dsn, "--wechat-api", sbServer.URL,
		"--wechatpay-api", payServer.URL, "--public-url", ts.URL,
		"--kuaidi100-api", parcelServer.URL, "--kuaidi100-customer", kdsandbox.Customer, "--kuaidi100-key", kdsandbox.Key,
		"--secret-key", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "--admin-password", operatorPassword,
		"--log-level", "debug", "--sync-interval", "100ms"}, args...), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := server.New(context.Background(), cfg, log, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	serve(t, srv, ts)
	return &env{t: t, srv: srv, ts: ts, sandbox: sb, pay: pay, parcels: parcels, sms: smsSB, payURL: payServer.URL, logs: logs, dsn: dsn}
}

// serve runs srv.Serve (with its background loops) on ts's loopback
// listener until the test ends.
func serve(t testing.TB, srv *server.Server, ts *httptest.Server) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ts.Listener) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
}

// forEachEngine runs fn with a fresh env on every test engine.
func forEachEngine(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, engine := range db.TestEngines() {
		t.Run(string(engine), func(t *testing.T) {
			fn(t, newEnv(t, db.TestDSN(t, engine), nil))
		})
	}
}

// caller is who makes a request: a bearer token, an appid, a shop for
// operators.
type caller struct {
	token  string
	appid  string
	shopID int64
}

type response struct {
	status int
	body   []byte
	header http.Header
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object (%d): %s", r.status, r.body)
	}
	return m
}

func (r response) code() string {
	var m struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(r.body, &m)
	return m.Code
}

// do sends a request; body is JSON-encoded unless it is a string or []byte.
func (e *env) do(c caller, method, path string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	contentType := ""
	if body != nil {
		contentType = "application/json"
	}
	return e.send(c, method, path, rd, contentType)
}

// send makes one request as c.
func (e *env) send(c caller, method, path string, body io.Reader, contentType string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range e.extra {
		req.Header[k] = v
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.appid != "" {
		req.Header.Set("X-Appid", c.appid)
	}
	if c.shopID != 0 {
		req.Header.Set("X-Shop-Id", strconv.FormatInt(c.shopID, 10))
	}
	res, err := testClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, body: data, header: res.Header}
	if e.seen != nil {
		e.seen(req, out)
	}
	return out
}

// must sends a request and fails the test unless the status is want.
func (e *env) must(c caller, want int, method, path string, body any) map[string]any {
	e.t.Helper()
	r := e.do(c, method, path, body)
	if r.status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, want, r.body)
	}
	if len(r.body) == 0 {
		return nil
	}
	var m map[string]any
	_ = json.Unmarshal(r.body, &m)
	return m
}

func (e *env) staffLogin(username, password string) caller {
	e.t.Helper()
	m := e.must(caller{}, 200, "POST", "/admin/api/v1/auth/login", map[string]string{"username": username, "password": password})
	return caller{token: m["token"].(string)}
}

func (e *env) operator() caller { return e.staffLogin("admin", operatorPassword) }

// testShop is a shop with an owner, a category, a product and a member.
type testShop struct {
	id           int64
	appid        string
	owner        caller
	ownerID      int64
	categoryID   int64
	productID    int64
	member       caller
	memberID     int64
	skuID        int64
	orderID      int64
	cartLineID   int64
	aftersaleID  int64
	reportID     int64
	saleID       int64
	couponID     int64
	dealID       int64
	groupID      int64
	promoterID   int64
	withdrawalID int64
	mediaID      int64
	mod          modIDs
	mallItemID   int64      // a points-mall gift
	redemptionID int64      // the buyer's redemption of it
	badgeID      int64      // a badge the shop defined
	ticketID     int64      // a support ticket the shop opened
	costItemID   int64      // an item of the shop's cost ledger
	sessionID    int64      // the public id of the owner's session
	content      contentIDs // paid content (content_test.go)
	paid         paidIDs    // camps, questions, content orders (paidcontent_test.go)
	campaignID   int64      // a draft campaign to the segment (campaign_test.go)

	refundRequestID int64
	addressID       int64
	templateID      int64

	memberTagID, segmentID, memberNoteID int64
	inboxID                              int64 // an inbox message of member
	deadLetterID                         int64 // a dead-lettered message of member
}

var shopCounter struct {
	sync.Mutex
	n int
}

func nextAppID() string {
	shopCounter.Lock()
	defer shopCounter.Unlock()
	shopCounter.n++
	return "wx" + strings.Repeat("0", 16-len(strconv.Itoa(shopCounter.n))) + strconv.Itoa(shopCounter.n)
}

// newShop creates a complete shop through the API; marker goes into every
// name so a leak to another shop is visible in its responses.
func (e *env) newShop(op caller, marker, subject string) testShop {
	e.t.Helper()
	appid := nextAppID()
	secret := "secret-of-" + appid
	e.sandbox.AddApp(appid, secret)
	sh := e.must(op, 201, "POST", "/admin/api/v1/shops", map[string]any{"name": marker + "店", "appid": appid,
		"subject_type": subject, "secrets": map[string]string{"app_secret": secret}})
	ts := testShop{id: int64(sh["id"].(float64)), appid: appid}
	owner := e.must(caller{token: op.token, shopID: ts.id}, 201, "POST", "/admin/api/v1/staff",
		map[string]any{"username": "owner_" + appid, "password": "owner-pass-1", "role": "owner", "display_name": marker})
	ts.ownerID = int64(owner["id"].(float64))
	ts.owner = e.staffLogin("owner_"+appid, "owner-pass-1")
	cat := e.must(ts.owner, 201, "POST", "/admin/api/v1/categories", map[string]any{"name": marker + "分类"})
	ts.categoryID = int64(cat["id"].(float64))
	p := e.must(ts.owner, 201, "POST", "/admin/api/v1/products", productBody(ts.categoryID, marker+"连衣裙", subject != "personal"))
	ts.productID = int64(p["id"].(float64))
	ts.skuID = int64(p["skus"].([]any)[0].(map[string]any)["id"].(float64))
	ts.member, ts.memberID = e.memberLogin(appid, "openid-"+marker)
	if subject != "personal" {
		ts.orderID = e.buyNow(ts.member, ts.skuID, 1)
		cart := e.must(ts.member, 200, "POST", "/api/v1/cart/items", map[string]any{"sku_id": ts.skuID, "quantity": 2})
		ts.cartLineID = int64(cart["lines"].([]any)[0].(map[string]any)["id"].(float64))
	}
	return ts
}

func productBody(categoryID int64, title string, onShelf bool) map[string]any {
	var skus []map[string]any
	for _, c := range []string{"红", "蓝"} {
		for _, s := range []string{"S", "M", "L"} {
			skus = append(skus, map[string]any{"spec_values": []string{c, s}, "price": 9900, "stock": 10})
		}
	}
	return map[string]any{"category_id": categoryID, "title": title, "on_shelf": onShelf,
		"images": []string{"https://img.example.com/a.jpg"},
		"specs":  []map[string]any{{"name": "颜色", "values": []string{"红", "蓝"}}, {"name": "尺码", "values": []string{"S", "M", "L"}}},
		"skus":   skus}
}

func (e *env) memberLogin(appid, openid string) (caller, int64) {
	e.t.Helper()
	code, err := e.sandbox.LoginCode(appid, openid, "union-"+openid)
	if err != nil {
		e.t.Fatal(err)
	}
	m := e.must(caller{appid: appid}, 200, "POST", "/api/v1/auth/login", map[string]string{"code": code})
	return caller{token: m["token"].(string)}, int64(m["member"].(map[string]any)["id"].(float64))
}

// waitFor polls cond until it holds or 5 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var _ = account.CookieName

// doWithType sends body with an explicit content type.
func (e *env) doWithType(c caller, method, path, body, contentType string) response {
	e.t.Helper()
	return e.send(c, method, path, strings.NewReader(body), contentType)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

var testClient = &http.Client{Timeout: 30 * time.Second}

var testAddress = map[string]any{"name": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
	"district": "西湖区", "detail": "文三路 1 号"}

var orderKeys struct {
	sync.Mutex
	n int
}

// buyNow places an order for qty of a SKU and returns its id.
func (e *env) buyNow(buyer caller, skuID, qty int64) int64 {
	e.t.Helper()
	orderKeys.Lock()
	orderKeys.n++
	key := fmt.Sprintf("test-order-%06d", orderKeys.n)
	orderKeys.Unlock()
	r := e.withHeader("Idempotency-Key", key).do(buyer, "POST", "/api/v1/orders",
		map[string]any{"items": []map[string]any{{"sku_id": skuID, "quantity": qty}}, "address": testAddress})
	if r.status != 201 {
		e.t.Fatalf("buy now: %d %s", r.status, r.body)
	}
	return int64(r.json(e.t)["id"].(float64))
}

// withHeader returns a copy of e that adds a header to its requests.
func (e *env) withHeader(name, value string) *env {
	c := *e
	c.extra = http.Header{}
	for k, v := range e.extra {
		c.extra[k] = v
	}
	c.extra.Set(name, value)
	return &c
}

var refundKeys atomic.Int64

// keyed returns a copy of e whose requests carry a fresh Idempotency-Key,
// as a staff refund needs: one key per refund meant.
func (e *env) keyed() *env {
	return e.withHeader("Idempotency-Key", fmt.Sprintf("test-refund-%06d", refundKeys.Add(1)))
}
