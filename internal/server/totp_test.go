package server_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// fakeClock is the accounts' and sessions' clock in these tests: codes of
// a chosen time step, idle sessions, without sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// useClock gives e's accounts and sessions a clock the test moves.
func (e *env) useClock() *fakeClock {
	clk := &fakeClock{t: time.Now()}
	e.srv.Accounts.SetClock(clk.now)
	e.srv.Sessions.SetClock(clk.now)
	return clk
}

// totpCode is the code of secret at the clock's time; the clock then
// moves on a step, so the next code is a new one.
func (e *env) totpCode(secret string, clk *fakeClock) string {
	e.t.Helper()
	code, err := totp.GenerateCode(secret, clk.now())
	if err != nil {
		e.t.Fatal(err)
	}
	return code
}

// enrolTOTP turns TOTP on for c and returns its secret and recovery codes.
func (e *env) enrolTOTP(c caller, clk *fakeClock) (string, []string) {
	e.t.Helper()
	en := e.must(c, 201, "POST", "/admin/api/v1/auth/totp/enrol", nil)
	secret := en["secret"].(string)
	if !strings.HasPrefix(en["otpauth_url"].(string), "otpauth://totp/kaidian:") {
		e.t.Fatalf("enrolment URL: %v", en["otpauth_url"])
	}
	res := e.must(c, 200, "POST", "/admin/api/v1/auth/totp/confirm", map[string]any{"code": e.totpCode(secret, clk)})
	var codes []string
	for _, c := range res["recovery_codes"].([]any) {
		codes = append(codes, c.(string))
	}
	if len(codes) != 10 {
		e.t.Fatalf("recovery codes: %v", codes)
	}
	clk.advance(30 * time.Second)
	return secret, codes
}

// loginChallenge logs in with the password of an account with TOTP: 401
// second_factor_required with a challenge.
func (e *env) loginChallenge(username, password string) string {
	e.t.Helper()
	r := e.do(caller{}, "POST", "/admin/api/v1/auth/login", map[string]string{"username": username, "password": password})
	if r.status != 401 || r.code() != "second_factor_required" || r.header.Get("Set-Cookie") != "" {
		e.t.Fatalf("login with TOTP on: %d %s", r.status, r.body)
	}
	ch, _ := r.json(e.t)["challenge"].(string)
	if ch == "" {
		e.t.Fatalf("no challenge: %s", r.body)
	}
	return ch
}

// TestTOTPLoginInTwoSteps: with TOTP on, a right password gives only a
// challenge; the session comes with a current code or a recovery code
// (each once); a code is never accepted twice; the challenge lasts 5
// minutes; no secret or code reaches the logs.
func TestTOTPLoginInTwoSteps(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		v := newDocValidator(t, e)
		e.seen = v.check
		defer v.finish(nil)
		clk := e.useClock()
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		if me := e.must(a.owner, 200, "GET", "/admin/api/v1/auth/me", nil); me["totp_enabled"] != false {
			t.Fatalf("me before enrolment: %v", me)
		}
		secret, recovery := e.enrolTOTP(a.owner, clk)
		if me := e.must(a.owner, 200, "GET", "/admin/api/v1/auth/me", nil); me["totp_enabled"] != true {
			t.Fatalf("me after enrolment: %v", me)
		}
		user := "owner_" + a.appid
		ch := e.loginChallenge(user, "owner-pass-1")
		if r := e.do(caller{}, "POST", "/admin/api/v1/auth/login/totp", map[string]any{"challenge": ch, "code": "000000"}); r.status != 400 || r.code() != "invalid_code" {
			t.Fatalf("wrong code: %d %s", r.status, r.body)
		}
		code := e.totpCode(secret, clk)
		res := e.must(caller{}, 200, "POST", "/admin/api/v1/auth/login/totp", map[string]any{"challenge": ch, "code": code})
		owner := caller{token: res["token"].(string)}
		e.must(owner, 200, "GET", "/admin/api/v1/shop", nil)
		if r := e.do(caller{}, "POST", "/admin/api/v1/auth/login/totp", map[string]any{"challenge": ch, "code": code}); r.status != 401 || r.code() != "challenge_expired" {
			t.Fatalf("a challenge used twice: %d %s", r.status, r.body)
		}

		// The same code (same time step) in a new login: refused.
		ch = e.loginChallenge(user, "owner-pass-1")
		if r := e.do(caller{}, "POST", "/admin/api/v1/auth/login/totp", map[string]any{"challenge": ch, "code": code}); r.status != 409 || r.code() != "code_reused" {
			t.Fatalf("reused code: %d %s", r.status, r.body)
		}
		clk.advance(30 * time.Second)
		e.must(caller{}, 200, "POST", "/admin/api/v1/auth/login/totp", map[string]any{"challenge": ch, "code": e.totpCode(secret, clk)})

		// A recovery code works once, typed in any case.
		ch = e.loginChallenge(user, "owner-pass-1")
		e.must(caller{}, 200, "POST", "/admin/api/v1/auth/login/totp", map[string]any{"challenge": ch, "recovery_code": strings.ToLower(recovery[0])})
		ch = e.loginChallenge(user, "owner-pass-1")
		if r := e.do(caller{}, "POST", "/admin/api/v1/auth/login/totp", map[string]any{"challenge": ch, "recovery_code": recovery[0]}); r.status != 400 || r.code() != "invalid_code" {
			t.Fatalf("a recovery code used twice: %d %s", r.status, r.body)
		}

		// A challenge older than 5 minutes is refused.
		clk.advance(5*time.Minute + time.Second)
		if r := e.do(caller{}, "POST", "/admin/api/v1/auth/login/totp", map[string]any{"challenge": ch, "code": e.totpCode(secret, clk)}); r.status != 401 || r.code() != "challenge_expired" {
			t.Fatalf("an old challenge: %d %s", r.status, r.body)
		}
		logs := e.logs.String() + e.auditText()
		for _, s := range append([]string{secret, ch}, recovery...) { // a 6-digit code may match any number in a log
			if strings.Contains(logs, s) {
				t.Fatalf("the logs or the audit log show a secret, challenge or code %q", s)
			}
		}
		var actor string
		if err := e.srv.DB.QueryRow(context.Background(), `SELECT actor FROM audit_log WHERE action = 'POST /admin/api/v1/auth/login/totp'
			AND status = 200 ORDER BY id LIMIT 1`).Scan(&actor); err != nil || actor != user {
			t.Fatalf("the second step of a login in the audit log: actor %q, %v", actor, err)
		}
	})
}

// TestTOTPWrongCodesAreThrottled: five wrong codes, then a growing wait
// (429 with Retry-After) even for a right code; concurrent guesses cannot
// get more than the free five past the count.
func TestTOTPWrongCodesAreThrottled(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		clk := e.useClock()
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		secret, _ := e.enrolTOTP(a.owner, clk)
		verify := func(code string) response {
			return e.do(a.owner, "POST", "/admin/api/v1/auth/totp/verify", map[string]any{"code": code})
		}
		wrong := wrongCode(e.totpCode(secret, clk))
		for i := 0; i < 5; i++ {
			if r := verify(wrong); r.status != 400 || r.code() != "invalid_code" {
				t.Fatalf("wrong code %d: %d %s", i, r.status, r.body)
			}
		}
		r := verify(e.totpCode(secret, clk))
		if r.status != 429 || r.code() != "too_many_code_attempts" || r.header.Get("Retry-After") == "" {
			t.Fatalf("a right code after 5 wrong ones: %d %s", r.status, r.body)
		}
		clk.advance(2 * time.Second)
		e.must(a.owner, 200, "POST", "/admin/api/v1/auth/totp/verify", map[string]any{"code": e.totpCode(secret, clk)})

		// Concurrent guesses at a fresh account: only the free ones are checked.
		e.must(a.owner, 201, "POST", "/admin/api/v1/staff", map[string]any{"username": "ops_a", "password": "role-pass-1", "role": "operations"})
		ops := e.staffLogin("ops_a", "role-pass-1")
		opsSecret, _ := e.enrolTOTP(ops, clk)
		wrong = wrongCode(e.totpCode(opsSecret, clk))
		var mu sync.Mutex
		counts := map[int]int{}
		var wg sync.WaitGroup
		for i := 0; i < 12; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.do(ops, "POST", "/admin/api/v1/auth/totp/verify", map[string]any{"code": wrong})
				mu.Lock()
				counts[r.status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if counts[400] > 5 || counts[400]+counts[429] != 12 {
			t.Fatalf("12 concurrent wrong codes: %v (at most 5 may be checked)", counts)
		}
	})
}

// wrongCode is a 6-digit code other than right.
func wrongCode(right string) string {
	if right == "123456" {
		return "654321"
	}
	return "123456"
}

// TestStepUpForSensitiveActions: a staff change and a refund above the
// limit need a code verified within 5 minutes or sent in X-Kaidian-OTP;
// staff without TOTP are not asked.
func TestStepUpForSensitiveActions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		v := newDocValidator(t, e)
		e.seen = v.check
		defer v.finish(nil)
		clk := e.useClock()
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.paidOrder(op, a) // 9900 fen, paid by WeChat Pay (the sandbox)
		e.must(a.owner, 200, "PUT", "/admin/api/v1/refund-policy", map[string]any{"service_limit": 3000})
		staff := e.must(a.owner, 201, "POST", "/admin/api/v1/staff", map[string]any{"username": "svc_a", "password": "role-pass-1", "role": "service"})
		patch := fmt.Sprintf("/admin/api/v1/staff/%v", staff["id"])
		e.must(a.owner, 200, "PATCH", patch, map[string]any{"display_name": "no TOTP, nothing to verify"})

		secret, _ := e.enrolTOTP(a.owner, clk) // the confirmation steps this session up
		e.must(a.owner, 200, "PATCH", patch, map[string]any{"display_name": "within 5 minutes"})
		clk.advance(5*time.Minute + time.Second)
		if r := e.do(a.owner, "PATCH", patch, map[string]any{"display_name": "later"}); r.status != 403 || r.code() != "second_factor_required" {
			t.Fatalf("a staff change without a recent code: %d %s", r.status, r.body)
		}
		if r := e.withHeader("X-Kaidian-OTP", "000000").do(a.owner, "PATCH", patch, map[string]any{"display_name": "later"}); r.status != 400 || r.code() != "invalid_code" {
			t.Fatalf("a wrong X-Kaidian-OTP: %d %s", r.status, r.body)
		}
		e.withHeader("X-Kaidian-OTP", e.totpCode(secret, clk)).must(a.owner, 200, "PATCH", patch, map[string]any{"display_name": "with a code"})
		e.must(a.owner, 200, "PATCH", patch, map[string]any{"display_name": "stepped up for 5 minutes"})

		// Refunds: up to the limit without a code, above it only stepped up.
		clk.advance(5*time.Minute + time.Second)
		refunds := fmt.Sprintf("/admin/api/v1/orders/%d/refunds", a.orderID)
		e.keyed().must(a.owner, 201, "POST", refunds, map[string]any{"amount": 1000})
		if r := e.keyed().do(a.owner, "POST", refunds, map[string]any{"amount": 2500}); r.status != 403 || r.code() != "second_factor_required" {
			t.Fatalf("a refund above the limit without a code: %d %s", r.status, r.body)
		}
		clk.advance(30 * time.Second)
		e.keyed().withHeader("X-Kaidian-OTP", e.totpCode(secret, clk)).must(a.owner, 201, "POST", refunds, map[string]any{"amount": 2500})
		if me := e.must(a.owner, 200, "GET", "/admin/api/v1/auth/me", nil); me["stepped_up"] != true {
			t.Fatalf("me after a step-up: %v", me)
		}

		// Approving customer service's refund request is a refund above its limit.
		svc := e.staffLogin("svc_a", "role-pass-1")
		req := e.must(svc, 201, "POST", "/admin/api/v1/refund-requests", map[string]any{"order_id": a.orderID, "amount": 1000, "reason": "破损"})
		approve := fmt.Sprintf("/admin/api/v1/refund-requests/%v/approve", req["id"])
		clk.advance(5*time.Minute + time.Second)
		if r := e.do(a.owner, "POST", approve, map[string]any{"note": "同意"}); r.status != 403 || r.code() != "second_factor_required" {
			t.Fatalf("approving a refund request without a code: %d %s", r.status, r.body)
		}
		e.withHeader("X-Kaidian-OTP", e.totpCode(secret, clk)).must(a.owner, 200, "POST", approve, map[string]any{"note": "同意"})
	})
}

// TestStaffSessionsListRevokeAndIdle: my sessions (never a token), one
// revoked by id (not another account's), idle sessions end.
func TestStaffSessionsListRevokeAndIdle(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		clk := e.useClock()
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		user := "owner_" + a.appid
		clk.advance(time.Second) // newest first
		second := e.withHeader("User-Agent", "kaidian-test/2").staffLogin(user, "owner-pass-1")
		list := e.do(a.owner, "GET", "/admin/api/v1/auth/sessions", nil)
		var sessions []struct {
			ID        int64  `json:"id"`
			Current   bool   `json:"current"`
			UserAgent string `json:"user_agent"`
			Addr      string `json:"addr"`
		}
		if list.status != 200 || jsonUnmarshal(list.body, &sessions) != nil || len(sessions) != 2 {
			t.Fatalf("my sessions: %d %s", list.status, list.body)
		}
		if strings.Contains(string(list.body), a.owner.token) || strings.Contains(string(list.body), second.token) {
			t.Fatal("the session list shows a token")
		}
		if !sessions[1].Current || sessions[0].Current || sessions[0].UserAgent != "kaidian-test/2" || sessions[0].Addr == "" {
			t.Fatalf("my sessions: %s", list.body)
		}
		if r := e.do(op, "DELETE", fmt.Sprintf("/admin/api/v1/auth/sessions/%d", sessions[0].ID), nil); r.status != 404 {
			t.Fatalf("revoking another account's session: %d %s", r.status, r.body)
		}
		e.must(a.owner, 204, "DELETE", fmt.Sprintf("/admin/api/v1/auth/sessions/%d", sessions[0].ID), nil)
		if r := e.do(second, "GET", "/admin/api/v1/auth/me", nil); r.status != 401 {
			t.Fatalf("a revoked session: %d %s", r.status, r.body)
		}

		// Idle: 29 minutes between requests keep a session; 31 end it.
		clk.advance(29 * time.Minute)
		e.must(a.owner, 200, "GET", "/admin/api/v1/auth/me", nil)
		clk.advance(29 * time.Minute)
		e.must(a.owner, 200, "GET", "/admin/api/v1/auth/me", nil)
		clk.advance(31 * time.Minute)
		if r := e.do(a.owner, "GET", "/admin/api/v1/auth/me", nil); r.status != 401 {
			t.Fatalf("a session idle 31 minutes: %d %s", r.status, r.body)
		}
	})
}

// TestOwnerResetsLostDevice: an owner resets the TOTP of a staff member
// who lost the phone (not their own, not another shop's); the reset ends
// the account's sessions and is logged without secrets.
func TestOwnerResetsLostDevice(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		clk := e.useClock()
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		b := e.newShop(op, "乙", "enterprise")
		staff := e.must(a.owner, 201, "POST", "/admin/api/v1/staff", map[string]any{"username": "fin_a", "password": "role-pass-1", "role": "finance"})
		fin := e.staffLogin("fin_a", "role-pass-1")
		secret, _ := e.enrolTOTP(fin, clk)
		reset := fmt.Sprintf("/admin/api/v1/staff/%v/totp/reset", staff["id"])
		if r := e.do(fin, "POST", reset, nil); r.status != 403 {
			t.Fatalf("finance resetting: %d %s", r.status, r.body)
		}
		if r := e.do(b.owner, "POST", reset, nil); r.status != 404 {
			t.Fatalf("another shop's owner resetting: %d %s", r.status, r.body)
		}
		if r := e.do(a.owner, "POST", fmt.Sprintf("/admin/api/v1/staff/%d/totp/reset", a.ownerID), nil); r.status != 409 || r.code() != "cannot_change_self" {
			t.Fatalf("resetting one's own: %d %s", r.status, r.body)
		}
		e.must(a.owner, 204, "POST", reset, nil)
		if r := e.do(fin, "GET", "/admin/api/v1/auth/me", nil); r.status != 401 {
			t.Fatalf("the reset account's session: %d %s", r.status, r.body)
		}
		fin = e.staffLogin("fin_a", "role-pass-1") // a password is enough again
		if me := e.must(fin, 200, "GET", "/admin/api/v1/auth/me", nil); me["totp_enabled"] != false {
			t.Fatalf("me after the reset: %v", me)
		}
		if !strings.Contains(e.logs.String(), `"msg":"totp reset"`) || strings.Contains(e.logs.String(), secret) {
			t.Fatal("the reset is not logged, or the log shows the secret")
		}
	})
}

// TestTOTPEnrolmentRequired: where the server requires TOTP, an owner or
// operator without it may only enrol (and see who they are, log out);
// once enrolled everything works; a shop may require it of every role.
func TestTOTPEnrolmentRequired(t *testing.T) {
	for _, engine := range db.TestEngines() {
		t.Run(string(engine), func(t *testing.T) {
			e := newEnv(t, db.TestDSN(t, engine), nil, "--require-totp")
			v := newDocValidator(t, e)
			e.seen = v.check
			defer v.finish(nil)
			clk := e.useClock()
			op := e.operator()
			if me := e.must(op, 200, "GET", "/admin/api/v1/auth/me", nil); me["totp_enrolment_required"] != true {
				t.Fatalf("me of an operator without TOTP: %v", me)
			}
			if r := e.do(op, "GET", "/admin/api/v1/shops", nil); r.status != 403 || r.code() != "totp_enrolment_required" {
				t.Fatalf("an operator without TOTP listing shops: %d %s", r.status, r.body)
			}
			e.enrolTOTP(op, clk)
			appid := nextAppID()
			e.sandbox.AddApp(appid, "secret-of-"+appid)
			sh := e.must(op, 201, "POST", "/admin/api/v1/shops", map[string]any{"name": "甲店", "appid": appid,
				"subject_type": "enterprise", "secrets": map[string]string{"app_secret": "secret-of-" + appid}})
			inShop := caller{token: op.token, shopID: int64(sh["id"].(float64))}
			e.must(inShop, 201, "POST", "/admin/api/v1/staff", map[string]any{"username": "owner_" + appid, "password": "owner-pass-1", "role": "owner"})
			owner := e.staffLogin("owner_"+appid, "owner-pass-1")
			if r := e.do(owner, "GET", "/admin/api/v1/products", nil); r.status != 403 || r.code() != "totp_enrolment_required" {
				t.Fatalf("an owner without TOTP: %d %s", r.status, r.body)
			}
			e.enrolTOTP(owner, clk)
			e.must(owner, 200, "GET", "/admin/api/v1/products", nil)

			// Other roles: only when the shop says so.
			e.must(owner, 201, "POST", "/admin/api/v1/staff", map[string]any{"username": "svc_a", "password": "role-pass-1", "role": "service"})
			svc := e.staffLogin("svc_a", "role-pass-1")
			e.must(svc, 200, "GET", "/admin/api/v1/products", nil)
			e.must(owner, 200, "PUT", "/admin/api/v1/shop/totp-policy", map[string]any{"all_roles": true})
			if r := e.do(svc, "GET", "/admin/api/v1/products", nil); r.status != 403 || r.code() != "totp_enrolment_required" {
				t.Fatalf("customer service without TOTP in a shop that requires it: %d %s", r.status, r.body)
			}
			if p := e.must(svc, 200, "GET", "/admin/api/v1/auth/me", nil); p["totp_enrolment_required"] != true {
				t.Fatalf("me: %v", p)
			}
		})
	}
}

// mySessionID is the public id of c's session.
func (e *env) mySessionID(c caller) int64 {
	e.t.Helper()
	r := e.do(c, "GET", "/admin/api/v1/auth/sessions", nil)
	var list []struct {
		ID      int64 `json:"id"`
		Current bool  `json:"current"`
	}
	if err := jsonUnmarshal(r.body, &list); err != nil {
		e.t.Fatalf("my sessions: %d %s", r.status, r.body)
	}
	for _, s := range list {
		if s.Current {
			return s.ID
		}
	}
	e.t.Fatalf("no current session: %s", r.body)
	return 0
}

// auditText is every recorded body of the audit log.
func (e *env) auditText() string {
	e.t.Helper()
	rows, err := e.srv.DB.Query(context.Background(), `SELECT action, request, before_json, after_json FROM audit_log`)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var action, req, before, after string
		if err := rows.Scan(&action, &req, &before, &after); err != nil {
			e.t.Fatal(err)
		}
		fmt.Fprintln(&b, action, req, before, after)
	}
	return b.String()
}
