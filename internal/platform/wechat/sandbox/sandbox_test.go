package sandbox_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
)

const (
	appID  = "wxsandbox000000001"
	secret = "sandbox-secret"
	prefix = "/sandbox/wechat"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type env struct {
	sb    *sandbox.Sandbox
	base  string // URL the sandbox is mounted at
	clock *clock
}

// newEnv mounts the sandbox under prefix, as kaidian demo does.
func newEnv(t *testing.T) *env {
	t.Helper()
	sb := sandbox.New()
	sb.AddApp(appID, secret)
	sb.AddApp(appID, secret) // idempotent
	sb.AddApp("wxother", "other-secret")
	c := &clock{now: time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)}
	sb.SetClock(c.Now)
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", http.StripPrefix(prefix, sb))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{sb: sb, base: srv.URL + prefix, clock: c}
}

// do sends a request and decodes the JSON reply (numbers as json.Number).
func (e *env) do(t *testing.T, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("%s %s: decode: %v", method, path, err)
	}
	return resp.StatusCode, out
}

// api calls a WeChat API and returns the reply and its errcode.
func (e *env) api(t *testing.T, method, path string, body any) (map[string]any, int) {
	t.Helper()
	status, out := e.do(t, method, path, body)
	if status != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d, want 200", method, path, status)
	}
	code := 0
	if n, ok := out["errcode"].(json.Number); ok {
		v, _ := n.Int64()
		code = int(v)
	}
	return out, code
}

func (e *env) session(t *testing.T, appid, sec, code string) (map[string]any, int) {
	t.Helper()
	q := url.Values{"appid": {appid}, "secret": {sec}, "js_code": {code}, "grant_type": {"authorization_code"}}
	return e.api(t, http.MethodGet, "/sns/jscode2session?"+q.Encode(), nil)
}

func (e *env) stable(t *testing.T, force bool) (string, int) {
	t.Helper()
	out, code := e.api(t, http.MethodPost, "/cgi-bin/stable_token", map[string]any{
		"grant_type": "client_credential", "appid": appID, "secret": secret, "force_refresh": force})
	tok, _ := out["access_token"].(string)
	return tok, code
}

func (e *env) plain(t *testing.T) string {
	t.Helper()
	q := url.Values{"grant_type": {"client_credential"}, "appid": {appID}, "secret": {secret}}
	out, code := e.api(t, http.MethodGet, "/cgi-bin/token?"+q.Encode(), nil)
	if code != 0 {
		t.Fatalf("cgi-bin/token: errcode %d", code)
	}
	if out["expires_in"] != json.Number("7200") {
		t.Fatalf("expires_in = %v", out["expires_in"])
	}
	return out["access_token"].(string)
}

// secCheck calls msg_sec_check with tok; it doubles as a token probe.
func (e *env) secCheck(t *testing.T, tok string, body map[string]any) (map[string]any, int) {
	t.Helper()
	if body == nil {
		body = map[string]any{"version": 2, "openid": "oUser", "scene": 1, "content": "hello"}
	}
	return e.api(t, http.MethodPost, "/wxa/msg_sec_check?access_token="+url.QueryEscape(tok), body)
}

func (e *env) wantToken(t *testing.T, tok string, want int) {
	t.Helper()
	if _, code := e.secCheck(t, tok, nil); code != want {
		t.Fatalf("call with token: errcode %d, want %d", code, want)
	}
}

func (e *env) control(t *testing.T, path string, body any) map[string]any {
	t.Helper()
	status, out := e.do(t, http.MethodPost, "/sandbox/"+path, body)
	if status != http.StatusOK {
		t.Fatalf("control %s: HTTP %d %v", path, status, out)
	}
	return out
}

func TestControlEndpointsUnderPrefix(t *testing.T) {
	e := newEnv(t)

	out := e.control(t, "login-code", map[string]string{"appid": appID})
	openid, _ := out["openid"].(string)
	if len(openid) != 28 || openid[0] != 'o' {
		t.Fatalf("generated openid %q, want o + 27 chars", openid)
	}
	if again := e.control(t, "login-code", map[string]string{"appid": appID}); again["openid"] != openid {
		t.Fatalf("default openid not stable: %v vs %q", again["openid"], openid)
	}
	sess, code := e.session(t, appID, secret, out["code"].(string))
	if code != 0 || sess["openid"] != openid || sess["session_key"] == "" {
		t.Fatalf("jscode2session = %v (errcode %d)", sess, code)
	}

	out = e.control(t, "login-code", map[string]string{"appid": appID, "openid": "oChosen", "unionid": "uX"})
	sess, _ = e.session(t, appID, secret, out["code"].(string))
	if out["openid"] != "oChosen" || sess["openid"] != "oChosen" || sess["unionid"] != "uX" {
		t.Fatalf("explicit openid: control %v, session %v", out, sess)
	}

	tok, _ := e.stable(t, false)
	phone := e.control(t, "phone-code", map[string]string{"appid": appID, "phone": "13800138000"})
	info, code := e.api(t, http.MethodPost, "/wxa/business/getuserphonenumber?access_token="+tok,
		map[string]string{"code": phone["code"].(string)})
	if code != 0 || info["phone_info"].(map[string]any)["purePhoneNumber"] != "13800138000" {
		t.Fatalf("getuserphonenumber = %v", info)
	}

	if got := e.control(t, "fail-next", map[string]any{"path": "/sns/jscode2session", "errcode": 45011}); len(got) != 0 {
		t.Fatalf("fail-next reply = %v, want {}", got)
	}
	login := e.control(t, "login-code", map[string]string{"appid": appID})["code"].(string)
	if _, code := e.session(t, appID, secret, login); code != 45011 {
		t.Fatalf("after fail-next: errcode %d, want 45011", code)
	}
	if _, code := e.session(t, appID, secret, login); code != 0 {
		t.Fatalf("fail-next applied twice: errcode %d", code)
	}

	e.control(t, "expire-tokens", map[string]string{"appid": appID})
	e.wantToken(t, tok, 42001)
}

func TestControlEndpointErrors(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		method, path string
		body         any
		status       int
	}{
		{http.MethodPost, "/sandbox/login-code", map[string]string{"appid": "wxnope"}, http.StatusBadRequest},
		{http.MethodPost, "/sandbox/phone-code", map[string]string{"appid": appID, "phone": "12ab"}, http.StatusBadRequest},
		{http.MethodPost, "/sandbox/fail-next", map[string]any{"path": "/nope", "errcode": 1}, http.StatusBadRequest},
		{http.MethodPost, "/sandbox/fail-next", map[string]any{"path": "/sns/jscode2session"}, http.StatusBadRequest},
		{http.MethodPost, "/sandbox/login-code", "not an object", http.StatusBadRequest},
		{http.MethodGet, "/sandbox/login-code", nil, http.StatusMethodNotAllowed},
		{http.MethodPost, "/sandbox/nope", map[string]string{}, http.StatusNotFound},
		{http.MethodGet, "/no/such/api", nil, http.StatusNotFound},
	}
	for _, tt := range tests {
		status, out := e.do(t, tt.method, tt.path, tt.body)
		if status != tt.status {
			t.Errorf("%s %s: HTTP %d %v, want %d", tt.method, tt.path, status, out, tt.status)
		}
	}
}

func TestJSCode2SessionErrors(t *testing.T) {
	e := newEnv(t)
	code := func() string {
		c, err := e.sb.LoginCode(appID, "oUser", "")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, code := e.session(t, "wxnope", secret, code()); code != 40013 {
		t.Errorf("unknown appid: errcode %d, want 40013", code)
	}
	if _, code := e.session(t, appID, "wrong", code()); code != 40125 {
		t.Errorf("wrong secret: errcode %d, want 40125", code)
	}
	if _, code := e.session(t, appID, secret, "unknown"); code != 40029 {
		t.Errorf("unknown code: errcode %d, want 40029", code)
	}
	if _, code := e.session(t, "wxother", "other-secret", code()); code != 40029 {
		t.Errorf("another app's code: errcode %d, want 40029", code)
	}
	used := code()
	e.session(t, appID, secret, used)
	if _, code := e.session(t, appID, secret, used); code != 40163 {
		t.Errorf("reused code: errcode %d, want 40163", code)
	}
	fresh, stale := code(), code()
	e.clock.Advance(5*time.Minute - time.Second)
	if _, code := e.session(t, appID, secret, fresh); code != 0 {
		t.Errorf("code at 4m59s: errcode %d, want 0", code)
	}
	e.clock.Advance(time.Second)
	if _, code := e.session(t, appID, secret, stale); code != 40029 {
		t.Errorf("expired code: errcode %d, want 40029", code)
	}
	if _, code := e.api(t, http.MethodPost, "/sns/jscode2session", nil); code != 43001 {
		t.Errorf("POST jscode2session: errcode %d, want 43001", code)
	}
}

func TestPlainTokenRotates(t *testing.T) {
	e := newEnv(t)
	first := e.plain(t)
	e.wantToken(t, first, 0)
	second := e.plain(t)
	if second == first {
		t.Fatal("cgi-bin/token did not rotate")
	}
	e.wantToken(t, first, 40001)
	e.wantToken(t, second, 0)
	if n := e.sb.TokenFetches(appID); n != 2 {
		t.Fatalf("TokenFetches = %d, want 2", n)
	}
}

func TestStableToken(t *testing.T) {
	e := newEnv(t)
	first, _ := e.stable(t, false)
	if again, _ := e.stable(t, false); again != first {
		t.Fatal("stable_token rotated without force_refresh")
	}
	forced, _ := e.stable(t, true)
	if forced == first {
		t.Fatal("force_refresh returned the old token")
	}
	e.clock.Advance(5*time.Minute - time.Second)
	e.wantToken(t, first, 0) // old token kept for 5 minutes
	e.wantToken(t, forced, 0)
	e.clock.Advance(time.Second)
	e.wantToken(t, first, 42001)

	// In the last 5 minutes a normal call issues a new token; both work.
	// The old one keeps its own expiry (3 minutes left here).
	e.clock.Advance(7200*time.Second - 8*time.Minute)
	renewed, _ := e.stable(t, false)
	if renewed == forced {
		t.Fatal("no new token in the last 5 minutes")
	}
	e.wantToken(t, forced, 0)
	e.wantToken(t, renewed, 0)
	e.clock.Advance(3 * time.Minute)
	e.wantToken(t, forced, 42001)
	e.wantToken(t, renewed, 0)

	if _, code := e.api(t, http.MethodPost, "/cgi-bin/stable_token", map[string]any{
		"grant_type": "client_credential", "appid": appID, "secret": "bad"}); code != 40125 {
		t.Fatalf("wrong secret: errcode %d, want 40125", code)
	}
	if n := e.sb.TokenFetches(appID); n != 4 {
		t.Fatalf("TokenFetches = %d, want 4", n)
	}
}

func TestTokenValidity(t *testing.T) {
	e := newEnv(t)
	tok, _ := e.stable(t, false)
	e.wantToken(t, "made-up", 40001)
	if _, code := e.api(t, http.MethodPost, "/wxa/msg_sec_check", map[string]any{}); code != 41001 {
		t.Fatalf("missing token: errcode %d, want 41001", code)
	}
	e.clock.Advance(7200*time.Second - time.Second)
	e.wantToken(t, tok, 0)
	e.clock.Advance(time.Second)
	e.wantToken(t, tok, 42001)

	tok, _ = e.stable(t, false)
	e.sb.ExpireTokens(appID)
	e.wantToken(t, tok, 42001)
}

func TestPhoneNumber(t *testing.T) {
	e := newEnv(t)
	tok, _ := e.stable(t, false)
	call := func(phone string) (map[string]any, int) {
		code, err := e.sb.PhoneCode(appID, phone)
		if err != nil {
			t.Fatal(err)
		}
		return e.api(t, http.MethodPost, "/wxa/business/getuserphonenumber?access_token="+tok,
			map[string]string{"code": code})
	}
	var shapes []string
	for range 2 {
		out, code := call("13800138000")
		if code != 0 {
			t.Fatalf("errcode %d", code)
		}
		info := out["phone_info"].(map[string]any)
		switch cc := info["countryCode"].(type) {
		case string:
			shapes = append(shapes, "string:"+cc)
		case json.Number:
			shapes = append(shapes, "number:"+cc.String())
		}
		wm := info["watermark"].(map[string]any)
		if wm["appid"] != appID || wm["timestamp"] != json.Number("1740816000") {
			t.Fatalf("watermark = %v", wm)
		}
	}
	if strings.Join(shapes, ",") != "string:86,number:86" {
		t.Fatalf("countryCode shapes = %v, want string then number", shapes)
	}

	code, _ := e.sb.PhoneCode(appID, "13800138000")
	path := "/wxa/business/getuserphonenumber?access_token=" + tok
	e.api(t, http.MethodPost, path, map[string]string{"code": code})
	for _, c := range []string{code, "bogus"} {
		if _, errcode := e.api(t, http.MethodPost, path, map[string]string{"code": c}); errcode != 40029 {
			t.Fatalf("code %q: errcode %d, want 40029", c, errcode)
		}
	}
	expiring, _ := e.sb.PhoneCode(appID, "13800138000")
	e.clock.Advance(5 * time.Minute)
	if _, errcode := e.api(t, http.MethodPost, path, map[string]string{"code": expiring}); errcode != 40029 {
		t.Fatalf("expired phone code: errcode %d, want 40029", errcode)
	}
}

func TestMsgSecCheck(t *testing.T) {
	e := newEnv(t)
	tok, _ := e.stable(t, false)
	body := func(content string) map[string]any {
		return map[string]any{"version": 2, "openid": "oUser", "scene": 2, "content": content}
	}
	verdicts := []struct {
		content, suggest, label string
	}{
		{"你好", "pass", "100"},
		{"加微信领红包", "review", "10001"},
		{"线上赌博", "risky", "20006"},
		{"加微信搞诈骗", "risky", "20008"},
	}
	for _, v := range verdicts {
		out, code := e.secCheck(t, tok, body(v.content))
		result, _ := out["result"].(map[string]any)
		if code != 0 || result["suggest"] != v.suggest || result["label"] != json.Number(v.label) || out["trace_id"] == "" {
			t.Fatalf("%q: %v", v.content, out)
		}
	}
	if _, code := e.secCheck(t, tok, body(strings.Repeat("字", 2500))); code != 0 {
		t.Fatalf("2500 chars: errcode %d, want 0", code)
	}
	bad := []struct {
		body map[string]any
		want int
	}{
		{body(strings.Repeat("字", 2501)), 47001},
		{map[string]any{"version": 1, "openid": "oUser", "scene": 2, "content": "x"}, 40097},
		{map[string]any{"version": 2, "openid": "oUser", "scene": 5, "content": "x"}, 40097},
		{map[string]any{"version": 2, "scene": 1, "content": "x"}, 40003},
	}
	for _, b := range bad {
		if _, code := e.secCheck(t, tok, b.body); code != b.want {
			t.Fatalf("%v: errcode %d, want %d", b.body["version"], code, b.want)
		}
	}
}

func TestFailNextQueues(t *testing.T) {
	e := newEnv(t)
	tok, _ := e.stable(t, false)
	e.sb.FailNext("/wxa/msg_sec_check", 40001)
	e.sb.FailNext("wxa/msg_sec_check/", -1)
	e.wantToken(t, tok, 40001)
	e.wantToken(t, tok, -1)
	e.wantToken(t, tok, 0)
}

func TestConcurrentUse(t *testing.T) {
	e := newEnv(t)
	errs := make(chan error, 40)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			code, err := e.sb.LoginCode(appID, "", "")
			errs <- err
			q := url.Values{"appid": {appID}, "secret": {secret}, "js_code": {code}, "grant_type": {"authorization_code"}}
			resp, err := http.Get(e.base + "/sns/jscode2session?" + q.Encode())
			if err == nil {
				var out struct{ OpenID string }
				err = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				if err == nil && out.OpenID == "" {
					err = errors.New("no openid")
				}
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}
