package server_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/account"
	"github.com/kaidian/kaidian/internal/platform/db"
)

func TestBuyerLoginPhoneAndLogout(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		app := caller{appid: a.appid}
		code, _ := e.sandbox.LoginCode(a.appid, "openid-new", "")
		first := e.must(app, 200, "POST", "/api/v1/auth/login", map[string]string{"code": code})
		if first["created"] != true {
			t.Fatalf("first login must create the member: %v", first)
		}
		if r := e.do(app, "POST", "/api/v1/auth/login", map[string]string{"code": code}); r.status != 400 || r.code() != "invalid_login_code" {
			t.Fatalf("a reused code: %d %s", r.status, r.body)
		}
		code2, _ := e.sandbox.LoginCode(a.appid, "openid-new", "union-x")
		second := e.must(app, 200, "POST", "/api/v1/auth/login", map[string]string{"code": code2})
		m1, m2 := first["member"].(map[string]any), second["member"].(map[string]any)
		if second["created"] != false || m1["id"] != m2["id"] || m2["has_unionid"] != true {
			t.Fatalf("the same openid must find the same member and keep the unionid: %v / %v", first, second)
		}
		buyer := caller{token: second["token"].(string)}
		phoneCode, _ := e.sandbox.PhoneCode(a.appid, "13800138000")
		me := e.must(buyer, 200, "POST", "/api/v1/me/phone", map[string]string{"code": phoneCode})
		if me["phone"] != "13800138000" {
			t.Fatalf("phone not bound: %v", me)
		}
		staffView := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/members/%v", m2["id"]), nil)
		if staffView["phone"] != "138****8000" {
			t.Fatalf("staff must see the phone masked, got %v", staffView["phone"])
		}
		if r := e.do(buyer, "POST", "/api/v1/me/phone", map[string]string{"code": phoneCode}); r.code() != "invalid_phone_code" {
			t.Fatalf("a reused phone code: %d %s", r.status, r.body)
		}
		e.must(buyer, 204, "POST", "/api/v1/auth/logout", nil)
		if r := e.do(buyer, "GET", "/api/v1/me", nil); r.status != 401 {
			t.Fatalf("after logout: %d", r.status)
		}
	})
}

func TestBuyerLoginMapsWeChatFailures(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		for _, c := range []struct {
			errcode int
			status  int
			code    string
		}{{45011, 429, "wechat_rate_limited"}, {-1, 503, "wechat_busy"}, {40226, 403, "wechat_risky_user"}, {40029, 400, "invalid_login_code"}} {
			e.sandbox.FailNext("/sns/jscode2session", c.errcode)
			code, _ := e.sandbox.LoginCode(a.appid, "o-fail", "")
			r := e.do(caller{appid: a.appid}, "POST", "/api/v1/auth/login", map[string]string{"code": code})
			if r.status != c.status || r.code() != c.code {
				t.Errorf("WeChat errcode %d: got %d %s, want %d %s", c.errcode, r.status, r.body, c.status, c.code)
			}
			if strings.Contains(r.String(), "secret-of-") {
				t.Errorf("the response shows the app secret: %s", r.body)
			}
		}
	})
}

func (r response) String() string { return string(r.body) }

func TestStaffRolesAndSessions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		roles := map[string]caller{}
		for _, role := range []string{"operations", "service", "finance"} {
			e.must(a.owner, 201, "POST", "/admin/api/v1/staff", map[string]any{"username": role + "_a", "password": "role-pass-1", "role": role})
			roles[role] = e.staffLogin(role+"_a", "role-pass-1")
		}
		roles["owner"] = a.owner
		newProduct := productBody(a.categoryID, "新品", true)
		matrix := []struct {
			role, method, path string
			body               any
			status             int
		}{
			{"operations", "POST", "/admin/api/v1/products", newProduct, 201},
			{"service", "POST", "/admin/api/v1/products", newProduct, 403},
			{"finance", "POST", "/admin/api/v1/products", newProduct, 403},
			{"finance", "GET", "/admin/api/v1/products", nil, 200},
			{"service", "GET", "/admin/api/v1/members", nil, 200},
			{"finance", "GET", "/admin/api/v1/members", nil, 403},
			{"operations", "GET", "/admin/api/v1/staff", nil, 403},
			{"owner", "GET", "/admin/api/v1/staff", nil, 200},
			{"owner", "GET", "/admin/api/v1/shops", nil, 403},
			{"owner", "PATCH", "/admin/api/v1/shop/wechat", map[string]any{"mch_id": "1900000109"}, 200},
			{"operations", "PATCH", "/admin/api/v1/shop/wechat", map[string]any{"mch_id": "1900000109"}, 403},
			{"owner", "POST", "/admin/api/v1/operators", map[string]any{"username": "evil", "password": "evil-pass-1"}, 403},
		}
		for _, m := range matrix {
			if r := e.do(roles[m.role], m.method, m.path, m.body); r.status != m.status {
				t.Errorf("%s %s %s: %d, want %d: %s", m.role, m.method, m.path, r.status, m.status, r.body)
			}
		}
		if r := e.do(op, "GET", "/admin/api/v1/products", nil); r.code() != "shop_required" {
			t.Errorf("an operator without X-Shop-Id: %d %s", r.status, r.body)
		}
		e.must(caller{token: op.token, shopID: a.id}, 200, "GET", "/admin/api/v1/products", nil)

		// Disabling an account ends its sessions and stops its logins.
		staff := e.must(a.owner, 200, "GET", "/admin/api/v1/staff", nil)
		_ = staff
		list := e.mustList(a.owner, "/admin/api/v1/staff")
		var financeID any
		for _, acc := range list {
			if acc["username"] == "finance_a" {
				financeID = acc["id"]
			}
		}
		e.must(a.owner, 200, "PATCH", fmt.Sprintf("/admin/api/v1/staff/%v", financeID), map[string]any{"disabled": true})
		if r := e.do(roles["finance"], "GET", "/admin/api/v1/products", nil); r.status != 401 {
			t.Errorf("a disabled account's session still works: %d", r.status)
		}
		if r := e.do(caller{}, "POST", "/admin/api/v1/auth/login", map[string]string{"username": "finance_a", "password": "role-pass-1"}); r.code() != "account_disabled" {
			t.Errorf("a disabled account logs in: %d %s", r.status, r.body)
		}

		// Changing the password ends the other sessions and returns a new one.
		other := e.staffLogin("operations_a", "role-pass-1")
		res := e.must(roles["operations"], 200, "POST", "/admin/api/v1/auth/password", map[string]string{"old_password": "role-pass-1", "new_password": "role-pass-2"})
		if r := e.do(other, "GET", "/admin/api/v1/auth/me", nil); r.status != 401 {
			t.Errorf("an old session survived a password change: %d", r.status)
		}
		e.must(caller{token: res["token"].(string)}, 200, "GET", "/admin/api/v1/auth/me", nil)
	})
}

func (e *env) mustList(c caller, path string) []map[string]any {
	e.t.Helper()
	r := e.do(c, "GET", path, nil)
	var out []map[string]any
	var page struct {
		Items []map[string]any `json:"items"`
	}
	switch {
	case r.status == 200 && len(r.body) > 0 && r.body[0] == '{' && jsonUnmarshal(r.body, &page) == nil && page.Items != nil:
		return page.Items // a page (httpx.Page): its items
	case r.status != 200 || jsonUnmarshal(r.body, &out) != nil:
		e.t.Fatalf("GET %s: %d %s", path, r.status, r.body)
	}
	return out
}

func TestStaffLoginIsRateLimited(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		bad := map[string]string{"username": "admin", "password": "wrong-password"}
		for i := 0; i < account.LoginPerAccount; i++ {
			if r := e.do(caller{}, "POST", "/admin/api/v1/auth/login", bad); r.status != 401 {
				t.Fatalf("attempt %d: %d %s", i+1, r.status, r.body)
			}
		}
		good := map[string]string{"username": "admin", "password": operatorPassword}
		r := e.do(caller{}, "POST", "/admin/api/v1/auth/login", good)
		if r.status != 429 || r.code() != "too_many_login_attempts" || r.header.Get("Retry-After") == "" {
			t.Fatalf("after %d failures even the right password must wait: %d %s", account.LoginPerAccount, r.status, r.body)
		}
	})
}

func TestCookieSessionsNeedCSRFToken(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		res := e.do(caller{}, "POST", "/admin/api/v1/auth/login", map[string]string{"username": "owner_" + a.appid, "password": "owner-pass-1"})
		var session, csrf *http.Cookie
		for _, c := range (&http.Response{Header: res.header}).Cookies() {
			switch c.Name {
			case account.CookieName:
				session = c
			case account.CSRFCookie:
				csrf = c
			}
		}
		if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || csrf == nil || csrf.HttpOnly {
			t.Fatalf("cookies: session %+v csrf %+v", session, csrf)
		}
		send := func(method, token string) int {
			req, _ := http.NewRequest(method, e.ts.URL+"/admin/api/v1/categories", strings.NewReader(`{"name":"新分类"}`))
			req.Header.Set("Content-Type", "application/json")
			req.AddCookie(session)
			if token != "" {
				req.Header.Set("X-CSRF-Token", token)
			}
			r, err := testClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			return r.StatusCode
		}
		if got := send("GET", ""); got != 200 {
			t.Errorf("a cookie GET: %d", got)
		}
		if got := send("POST", ""); got != 403 {
			t.Errorf("a cookie POST without the CSRF token: %d, want 403", got)
		}
		if got := send("POST", "forged"); got != 403 {
			t.Errorf("a cookie POST with a wrong CSRF token: %d, want 403", got)
		}
		if got := send("POST", csrf.Value); got != 201 {
			t.Errorf("a cookie POST with the CSRF token: %d, want 201", got)
		}
	})
}

func TestStaffLoginIsRateLimitedPerAddress(t *testing.T) {
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil)
	for i := 0; i < account.LoginPerAddress; i++ {
		creds := map[string]string{"username": fmt.Sprintf("guess%02d", i), "password": "wrong-password"}
		if r := e.do(caller{}, "POST", "/admin/api/v1/auth/login", creds); r.status != 401 {
			t.Fatalf("attempt %d: %d %s", i+1, r.status, r.body)
		}
	}
	good := map[string]string{"username": "admin", "password": operatorPassword}
	if r := e.do(caller{}, "POST", "/admin/api/v1/auth/login", good); r.status != 429 {
		t.Fatalf("after %d attempts from one address, another account must wait too: %d %s", account.LoginPerAddress, r.status, r.body)
	}
}

// Wrong passwords sent all at once from one address: at most the free
// attempts are checked (401), every other one waits (429 with Retry-After),
// and the right password works once that wait is over.
func TestConcurrentStaffGuessesAreThrottled(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		bad := map[string]string{"username": "admin", "password": "wrong-password"}
		const n = 60
		got := make([]response, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i] = e.do(caller{}, "POST", "/admin/api/v1/auth/login", bad)
			}()
		}
		wg.Wait()
		wrong, waited, retry := 0, 0, 0
		for _, r := range got {
			switch {
			case r.status == 401:
				wrong++
			case r.status == 429 && r.code() == "too_many_login_attempts" && r.header.Get("Retry-After") != "":
				waited++
				s, _ := strconv.Atoi(r.header.Get("Retry-After"))
				retry = max(retry, s)
			default:
				t.Fatalf("a concurrent guess: %d %s", r.status, r.body)
			}
		}
		if wrong > account.LoginPerAccount || wrong+waited != n {
			t.Fatalf("%d concurrent guesses: %d×401 and %d×429, want at most %d×401", n, wrong, waited, account.LoginPerAccount)
		}
		time.Sleep(time.Duration(retry) * time.Second)
		good := map[string]string{"username": "admin", "password": operatorPassword}
		if r := e.do(caller{}, "POST", "/admin/api/v1/auth/login", good); r.status != 200 {
			t.Fatalf("the right password after Retry-After %d s: %d %s", retry, r.status, r.body)
		}
	})
}
