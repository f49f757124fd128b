package server_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
)

// Two staff reconciling the same day at once both get the day's report:
// one report, never a 500 (the old delete-then-insert raced on the unique
// key on PostgreSQL).
func TestConcurrentReconciliationsOfOneDay(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.paidOrder(op, a)
		today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
		const n = 8
		ids := make([]any, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.do(a.owner, "POST", "/admin/api/v1/reconciliations", map[string]any{"date": today})
				if r.status != 201 {
					t.Errorf("reconciliation %d: %d %s", i, r.status, r.body)
					return
				}
				ids[i] = r.json(t)["id"]
			}()
		}
		wg.Wait()
		list := e.mustList(a.owner, "/admin/api/v1/reconciliations")
		if len(list) != 1 || list[0]["status"] != "matched" {
			t.Fatalf("%d concurrent runs left %d reports: %v", n, len(list), list)
		}
		for i, id := range ids {
			if id != nil && id != list[0]["id"] {
				t.Errorf("run %d answered report %v, the day's report is %v", i, id, list[0]["id"])
			}
		}
	})
}

// A field named twice, or in two letter cases, is refused: Go's decoder
// would take the last one case-insensitively, so {"Quantity":5,"quantity":1}
// ordered 1.
func TestDuplicateAndCaseVariantFieldsAreRefused(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		cartBefore := e.do(a.member, "GET", "/api/v1/cart", nil).String()
		ordersBefore := e.do(a.member, "GET", "/api/v1/orders", nil).String()
		sku := a.skuID
		for _, body := range []string{
			fmt.Sprintf(`{"sku_id":%d,"Quantity":5,"quantity":1}`, sku),
			fmt.Sprintf(`{"sku_id":%d,"quantity":5,"quantity":1}`, sku),
			fmt.Sprintf(`{"sku_id":%d,"quantity":5,"quantit\u0079":1}`, sku),
			fmt.Sprintf(`{"SKU_ID":%d,"sku_id":%d,"quantity":1}`, sku+1, sku),
		} {
			if r := e.do(a.member, "POST", "/api/v1/cart/items", body); r.status != 400 || r.code() != "duplicate_field" {
				t.Errorf("cart %s: %d %s", body, r.status, r.body)
			}
		}
		order := fmt.Sprintf(`{"items":[{"sku_id":%d,"Quantity":5,"quantity":1}],"address":{"name":"张三","phone":"13800138000","province":"浙江省","city":"杭州市","district":"西湖区","detail":"文三路 1 号"}}`, sku)
		if r := e.withHeader("Idempotency-Key", "dup-field-1").do(a.member, "POST", "/api/v1/orders", order); r.status != 400 || r.code() != "duplicate_field" {
			t.Errorf("order with Quantity and quantity: %d %s", r.status, r.body)
		}
		if e.do(a.member, "GET", "/api/v1/cart", nil).String() != cartBefore || e.do(a.member, "GET", "/api/v1/orders", nil).String() != ordersBefore {
			t.Error("a refused body changed the cart or the orders")
		}
		// The same names in different objects are fine.
		e.must(a.member, 200, "POST", "/api/v1/cart/items", fmt.Sprintf(`{"sku_id":%d,"quantity":1}`, sku))
	})
}

// A body that is not sent as JSON is refused with 415: a cross-site form
// can post text/plain (or no type at all with fetch), so the login took it.
func TestNonJSONBodiesAreRefused(t *testing.T) {
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil)
	login := `{"username":"admin","password":"` + operatorPassword + `"}`
	for _, ct := range []string{"text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""} {
		r := e.doWithType(caller{}, "POST", "/admin/api/v1/auth/login", login, ct)
		if r.status != 415 || r.code() != "unsupported_media_type" {
			t.Errorf("login as %q: %d %s, want 415", ct, r.status, r.body)
		}
	}
	e.must(caller{}, 200, "POST", "/admin/api/v1/auth/login", map[string]string{"username": "admin", "password": operatorPassword})
	if r := e.doWithType(caller{}, "POST", "/admin/api/v1/auth/login", login, "application/json; charset=utf-8"); r.status != 200 {
		t.Errorf("application/json with a charset: %d %s", r.status, r.body)
	}
}

// A known path with the wrong method answers 405 with Allow; an unknown
// path 404.
func TestWrongMethodIs405WithAllow(t *testing.T) {
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil)
	for _, c := range []struct{ method, path, allow string }{
		{"DELETE", "/api/v1/orders", "GET, POST"},
		{"PUT", "/healthz", "GET"},
		{"GET", "/admin/api/v1/auth/login", "POST"},
		{"POST", "/api/v1/products/7", "GET"},
	} {
		r := e.do(caller{}, c.method, c.path, nil)
		if r.status != 405 || r.code() != "method_not_allowed" || r.header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d Allow %q %s, want 405 Allow %q", c.method, c.path, r.status, r.header.Get("Allow"), r.body, c.allow)
		}
	}
	if r := e.do(caller{}, "DELETE", "/api/v1/no-such-thing", nil); r.status != 404 || r.code() != "route_not_found" {
		t.Errorf("an unknown path: %d %s", r.status, r.body)
	}
}

// Wrong passwords slow the guesser, not the account's owner: from another
// address the right password works at once, the guesser's own address waits
// the Retry-After the backoff computed (not a constant), and every throttled
// attempt is logged without the password.
func TestWrongPasswordsThrottleTheGuesserNotTheAccount(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e0 *env) {
		e := newEnv(t, e0.dsn, e0.sandbox, "--trust-proxy")
		guesser, owner := e.withHeader("X-Forwarded-For", "203.0.113.9"), e.withHeader("X-Forwarded-For", "198.51.100.7")
		bad := map[string]string{"username": "admin", "password": "wrong-guess-42"}
		for i := range 5 {
			if r := guesser.do(caller{}, "POST", "/admin/api/v1/auth/login", bad); r.status != 401 {
				t.Fatalf("guess %d: %d %s", i+1, r.status, r.body)
			}
		}
		good := map[string]string{"username": "admin", "password": operatorPassword}
		if r := owner.do(caller{}, "POST", "/admin/api/v1/auth/login", good); r.status != 200 {
			t.Fatalf("the admin from another address after 5 wrong guesses: %d %s (locked out)", r.status, r.body)
		}
		r := guesser.do(caller{}, "POST", "/admin/api/v1/auth/login", good)
		if r.status != 429 || r.code() != "too_many_login_attempts" || r.header.Get("Retry-After") != "1" {
			t.Fatalf("the guesser's address after 5 failures: %d Retry-After %q %s, want 429 after 1 s", r.status, r.header.Get("Retry-After"), r.body)
		}
		logs := e.logs.String()
		if !strings.Contains(logs, `"msg":"login throttled"`) || !strings.Contains(logs, "203.0.113.9") {
			t.Error("the throttled attempt is not logged with its address")
		}
		if strings.Contains(logs, "wrong-guess-42") || strings.Contains(logs, operatorPassword) {
			t.Error("a password is in the logs")
		}
	})
}

// Changing one's own password needs the old one (a stolen session cannot
// take the account over through the staff route); an operator resets a
// staff member's password and disables them, and their sessions end at
// once, on every server.
func TestPasswordsAndDisablingStaff(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		self := fmt.Sprintf("/admin/api/v1/staff/%d", a.ownerID)
		if r := e.do(a.owner, "PATCH", self, map[string]any{"password": "taken-over-1"}); r.status != 409 || r.code() != "old_password_required" {
			t.Fatalf("an owner set their own password without the old one: %d %s", r.status, r.body)
		}
		if r := e.do(a.owner, "POST", "/admin/api/v1/auth/password", map[string]string{"old_password": "wrong-old-1", "new_password": "owner-pass-2"}); r.status != 400 {
			t.Fatalf("a password change with a wrong old password: %d %s", r.status, r.body)
		}
		e.staffLogin("owner_"+a.appid, "owner-pass-1")

		two := newEnv(t, e.dsn, e.sandbox)
		opShop := caller{token: op.token, shopID: a.id}
		e.must(opShop, 200, "PATCH", self, map[string]any{"password": "reset-by-op-1"})
		if r := two.do(a.owner, "GET", "/admin/api/v1/auth/me", nil); r.status != 401 {
			t.Errorf("a session survived a password reset (other server): %d", r.status)
		}
		owner := two.staffLogin("owner_"+a.appid, "reset-by-op-1")
		e.must(opShop, 200, "PATCH", self, map[string]any{"disabled": true})
		for _, srv := range []*env{e, two} {
			if r := srv.do(owner, "GET", "/admin/api/v1/products", nil); r.status != 401 {
				t.Errorf("a disabled account's session still works: %d", r.status)
			}
		}
		e.must(opShop, 200, "PATCH", self, map[string]any{"disabled": false})
		two.staffLogin("owner_"+a.appid, "reset-by-op-1")
	})
}

// /metrics behind a bearer token, and on its own address.
func TestMetricsNeedTheTokenOrTheirOwnAddress(t *testing.T) {
	dsn := db.TestDSN(t, db.SQLite)
	e := newEnv(t, dsn, nil, "--metrics-token", "scrape-secret")
	for _, tok := range []string{"", "wrong"} {
		if r := e.do(caller{token: tok}, "GET", "/metrics", nil); r.status != 401 || strings.Contains(r.String(), "go_goroutines") {
			t.Errorf("/metrics with token %q: %d", tok, r.status)
		}
	}
	if r := e.do(caller{token: "scrape-secret"}, "GET", "/metrics", nil); r.status != 200 || !strings.Contains(r.String(), "go_goroutines") {
		t.Errorf("/metrics with the token: %d", r.status)
	}

	apart := newEnv(t, db.TestDSN(t, db.SQLite), sandbox.New(), "--metrics-addr", "127.0.0.1:0")
	if r := apart.do(caller{}, "GET", "/metrics", nil); r.status != 404 || strings.Contains(r.String(), "go_goroutines") {
		t.Errorf("/metrics on the public address with --metrics-addr: %d", r.status)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- apart.srv.ServeMetrics(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	res, err := testClient.Get("http://" + ln.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") == "" {
		t.Errorf("the metrics address: %d", res.StatusCode)
	}
	// Go's profiles are on the metrics address, and only there.
	res, err = testClient.Get("http://" + ln.Addr().String() + "/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "heap profile") {
		t.Errorf("/debug/pprof/heap on the metrics address: %d", res.StatusCode)
	}
	if r := apart.do(caller{}, "GET", "/debug/pprof/heap?debug=1", nil); r.status != 404 || strings.Contains(r.String(), "heap profile") {
		t.Errorf("/debug/pprof on the public address: %d", r.status)
	}
	if r := e.do(caller{token: "scrape-secret"}, "GET", "/debug/pprof/heap?debug=1", nil); r.status != 404 || strings.Contains(r.String(), "heap profile") {
		t.Errorf("/debug/pprof on the public address with the metrics token: %d", r.status)
	}
}

// API answers (personal data) are never stored by caches; HSTS goes out
// over HTTPS: here behind a trusted proxy that says so.
func TestNoStoreAndHSTS(t *testing.T) {
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil, "--trust-proxy")
	a := e.newShop(e.operator(), "甲", "enterprise")
	for _, c := range []struct {
		who  caller
		path string
	}{{a.member, "/api/v1/me"}, {a.owner, "/admin/api/v1/auth/me"}, {a.owner, "/admin/api/v1/members"}, {caller{appid: a.appid}, "/api/v1/products"}, {a.owner, "/admin/api/v1/nope"}} {
		r := e.do(c.who, "GET", c.path, nil)
		if r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", c.path, r.header.Get("Cache-Control"))
		}
		if r.header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS over plain HTTP", c.path)
		}
	}
	r := e.withHeader("X-Forwarded-Proto", "https").do(a.owner, "GET", "/admin/api/v1/auth/me", nil)
	if !strings.HasPrefix(r.header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("no HSTS behind a proxy saying https: %v", r.header)
	}
	plain := newEnv(t, db.TestDSN(t, db.SQLite), nil)
	if r := plain.withHeader("X-Forwarded-Proto", "https").do(caller{}, "GET", "/healthz", nil); r.header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS from an untrusted X-Forwarded-Proto")
	}
}
