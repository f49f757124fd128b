package wechat_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/wechat"
	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
)

const (
	testAppID  = "wx0123456789abcdef"
	testSecret = "S3CRET-do-not-leak-0123456789abcd"
	phonePath  = "/wxa/business/getuserphonenumber"
)

var testApp = wechat.App{AppID: testAppID, Secret: testSecret}

// fakeClock is a settable clock shared by the sandbox and the client.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type env struct {
	sb     *sandbox.Sandbox
	srv    *httptest.Server
	client *wechat.Client
	clock  *fakeClock
}

// newEnv starts a sandbox (optionally wrapped by middleware) and a client
// pointing at it, both on one fake clock.
func newEnv(t *testing.T, wrap func(http.Handler) http.Handler) *env {
	t.Helper()
	sb := sandbox.New()
	sb.AddApp(testAppID, testSecret)
	clock := &fakeClock{now: time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)}
	sb.SetClock(clock.Now)
	var h http.Handler = sb
	if wrap != nil {
		h = wrap(sb)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	client := wechat.NewClient(srv.URL, srv.Client(), nil)
	client.SetClock(clock.Now)
	return &env{sb: sb, srv: srv, client: client, clock: clock}
}

func (e *env) loginCode(t *testing.T, openid, unionid string) string {
	t.Helper()
	code, err := e.sb.LoginCode(testAppID, openid, unionid)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func (e *env) phoneCode(t *testing.T, phone string) string {
	t.Helper()
	code, err := e.sb.PhoneCode(testAppID, phone)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func (e *env) wantFetches(t *testing.T, want int) {
	t.Helper()
	if got := e.sb.TokenFetches(testAppID); got != want {
		t.Fatalf("TokenFetches = %d, want %d", got, want)
	}
}

func apiCode(t *testing.T, err error) int {
	t.Helper()
	var apiErr *wechat.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v is not an *APIError", err)
	}
	return apiErr.Code
}

func TestCode2Session(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()

	s, err := e.client.Code2Session(ctx, testApp, e.loginCode(t, "oUser1", ""))
	if err != nil {
		t.Fatal(err)
	}
	if s.OpenID != "oUser1" || s.UnionID != "" || s.SessionKey == "" {
		t.Fatalf("session = %+v", s)
	}

	s, err = e.client.Code2Session(ctx, testApp, e.loginCode(t, "oUser2", "uUnion2"))
	if err != nil {
		t.Fatal(err)
	}
	if s.OpenID != "oUser2" || s.UnionID != "uUnion2" {
		t.Fatalf("session = %+v, want unionid kept", s)
	}
}

func TestCode2SessionInvalidCodes(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	code := e.loginCode(t, "oUser1", "")
	if _, err := e.client.Code2Session(ctx, testApp, code); err != nil {
		t.Fatal(err)
	}

	_, err := e.client.Code2Session(ctx, testApp, code)
	if !wechat.IsInvalidCode(err) || apiCode(t, err) != 40163 {
		t.Fatalf("reused code: err = %v, want 40163", err)
	}
	_, err = e.client.Code2Session(ctx, testApp, "no-such-code")
	if !wechat.IsInvalidCode(err) || apiCode(t, err) != 40029 {
		t.Fatalf("unknown code: err = %v, want 40029", err)
	}
	expiring := e.loginCode(t, "oUser1", "")
	e.clock.Advance(5*time.Minute + time.Second)
	if _, err = e.client.Code2Session(ctx, testApp, expiring); !wechat.IsInvalidCode(err) {
		t.Fatalf("expired code: err = %v, want invalid code", err)
	}
}

func TestErrorClassifiers(t *testing.T) {
	tests := []struct {
		errcode int
		is      func(error) bool
	}{
		{45011, wechat.IsRateLimited},
		{45009, wechat.IsRateLimited},
		{-1, wechat.IsBusy},
		{40226, wechat.IsRisky},
	}
	for _, tt := range tests {
		e := newEnv(t, nil)
		code := e.loginCode(t, "oUser1", "")
		e.sb.FailNext("/sns/jscode2session", tt.errcode)
		_, err := e.client.Code2Session(context.Background(), testApp, code)
		if !tt.is(err) || apiCode(t, err) != tt.errcode {
			t.Fatalf("errcode %d: err = %v", tt.errcode, err)
		}
		if wechat.IsInvalidCode(err) {
			t.Fatalf("errcode %d classified as invalid code", tt.errcode)
		}
		if !strings.Contains(err.Error(), "errcode") {
			t.Fatalf("error message %q lacks errcode", err)
		}
		// The failure was injected before the code was looked at.
		if _, err := e.client.Code2Session(context.Background(), testApp, code); err != nil {
			t.Fatalf("errcode %d: call after the injected failure: %v", tt.errcode, err)
		}
	}
	if wechat.IsBusy(errors.New("x")) || wechat.IsRateLimited(nil) {
		t.Fatal("classifiers accept non-API errors")
	}
}

func TestAccessTokenCached(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	first, err := e.client.AccessToken(ctx, testApp)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		tok, err := e.client.AccessToken(ctx, testApp)
		if err != nil || tok != first {
			t.Fatalf("AccessToken = %q, %v; want cached %q", tok, err, first)
		}
		if _, err := e.client.MsgSecCheck(ctx, testApp, "oUser1", 2, "你好"); err != nil {
			t.Fatal(err)
		}
	}
	e.wantFetches(t, 1)
}

// slowTokens delays the token endpoint so concurrent callers overlap.
func slowTokens(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cgi-bin/stable_token" {
			time.Sleep(100 * time.Millisecond)
		}
		next.ServeHTTP(w, r)
	})
}

func TestAccessTokenConcurrentSingleFetch(t *testing.T) {
	e := newEnv(t, slowTokens)
	start := make(chan struct{})
	tokens := make([]string, 50)
	errs := make([]error, 50)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			<-start
			tokens[i], errs[i] = e.client.AccessToken(context.Background(), testApp)
		})
	}
	close(start)
	wg.Wait()
	for i := range 50 {
		if errs[i] != nil || tokens[i] == "" || tokens[i] != tokens[0] {
			t.Fatalf("caller %d: token %q, err %v (first %q)", i, tokens[i], errs[i], tokens[0])
		}
	}
	e.wantFetches(t, 1)
}

func TestAccessTokenCanceledCallerDoesNotFailOthers(t *testing.T) {
	e := newEnv(t, slowTokens)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := e.client.AccessToken(ctx, testApp)
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond) // let it start the shared fetch
	cancel()
	if _, err := e.client.AccessToken(context.Background(), testApp); err != nil {
		t.Fatalf("second caller: %v", err)
	}
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled caller: err = %v, want context.Canceled", err)
	}
	e.wantFetches(t, 1)
}

func TestAccessTokenSharedStore(t *testing.T) {
	e := newEnv(t, nil)
	store := wechat.NewMemoryTokenStore()
	a := wechat.NewClient(e.srv.URL, nil, store)
	b := wechat.NewClient(e.srv.URL, nil, store)
	for _, c := range []*wechat.Client{a, b} {
		c.SetClock(e.clock.Now)
	}
	ta, err := a.AccessToken(context.Background(), testApp)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := b.AccessToken(context.Background(), testApp)
	if err != nil || tb != ta {
		t.Fatalf("second process got %q, %v; want shared %q", tb, err, ta)
	}
	e.wantFetches(t, 1)
}

func TestAccessTokenRefreshedEarly(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	first, err := e.client.AccessToken(ctx, testApp)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(7200*time.Second - 5*time.Minute - time.Second)
	if tok, err := e.client.AccessToken(ctx, testApp); err != nil || tok != first {
		t.Fatalf("with 5m1s left: token %q, %v; want cached %q", tok, err, first)
	}
	e.wantFetches(t, 1)

	e.clock.Advance(2 * time.Second)
	second, err := e.client.AccessToken(ctx, testApp)
	if err != nil {
		t.Fatal(err)
	}
	if second == first {
		t.Fatal("token not refreshed with less than 5 minutes left")
	}
	e.wantFetches(t, 2)
	if _, err := e.client.PhoneNumber(ctx, testApp, e.phoneCode(t, "13800138000")); err != nil {
		t.Fatalf("refreshed token rejected: %v", err)
	}
	e.wantFetches(t, 2)
}

func TestPhoneNumberAfterExpireTokens(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if _, err := e.client.AccessToken(ctx, testApp); err != nil {
		t.Fatal(err)
	}
	e.sb.ExpireTokens(testAppID)
	p, err := e.client.PhoneNumber(ctx, testApp, e.phoneCode(t, "13800138000"))
	if err != nil {
		t.Fatal(err)
	}
	if p.PurePhoneNumber != "13800138000" {
		t.Fatalf("phone = %+v", p)
	}
	e.wantFetches(t, 2)
}

func TestTokenErrorsRetriedOnce(t *testing.T) {
	for _, errcode := range []int{40001, 40014, 42001} {
		e := newEnv(t, nil)
		ctx := context.Background()
		e.sb.FailNext("/wxa/msg_sec_check", errcode)
		r, err := e.client.MsgSecCheck(ctx, testApp, "oUser1", 1, "hello")
		if err != nil || r.Suggest != "pass" {
			t.Fatalf("errcode %d: result %+v, err %v", errcode, r, err)
		}
		e.wantFetches(t, 2)
	}
}

func TestPersistentInvalidTokenGivesError(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	code := e.phoneCode(t, "13800138000")
	e.sb.FailNext(phonePath, 40001)
	e.sb.FailNext(phonePath, 40001)
	_, err := e.client.PhoneNumber(ctx, testApp, code)
	if apiCode(t, err) != 40001 {
		t.Fatalf("err = %v, want 40001", err)
	}
	e.wantFetches(t, 2) // initial fetch plus exactly one forced refresh
	if _, err := e.client.PhoneNumber(ctx, testApp, code); err != nil {
		t.Fatalf("after the failures: %v", err)
	}
	e.wantFetches(t, 2)
}

func TestPhoneNumberCountryCodeShapes(t *testing.T) {
	e := newEnv(t, nil)
	// The sandbox alternates string "86" and number 86; cover both.
	for i := range 4 {
		p, err := e.client.PhoneNumber(context.Background(), testApp, e.phoneCode(t, "13800138000"))
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		want := wechat.Phone{PhoneNumber: "13800138000", PurePhoneNumber: "13800138000", CountryCode: "86"}
		if p != want {
			t.Fatalf("call %d: phone = %+v, want %+v", i, p, want)
		}
	}
	p, err := e.client.PhoneNumber(context.Background(), testApp, e.phoneCode(t, "+852 61234567"))
	if err != nil || p.CountryCode != "852" || p.PurePhoneNumber != "61234567" {
		t.Fatalf("international phone = %+v, %v", p, err)
	}
}

func TestPhoneNumberBadCode(t *testing.T) {
	e := newEnv(t, nil)
	code := e.phoneCode(t, "13800138000")
	if _, err := e.client.PhoneNumber(context.Background(), testApp, code); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{code, "bogus"} {
		_, err := e.client.PhoneNumber(context.Background(), testApp, c)
		if !wechat.IsInvalidCode(err) {
			t.Fatalf("code %q: err = %v, want invalid code", c, err)
		}
	}
}

func TestMsgSecCheck(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		content string
		suggest string
		label   int
	}{
		{"今天天气不错", "pass", 100},
		{"有兴趣的加微信详聊", "review", 10001},
		{"来玩网络赌博吧", "risky", 20006},
		{"加微信一起赌博", "risky", 20006},
	}
	for _, tt := range tests {
		r, err := e.client.MsgSecCheck(context.Background(), testApp, "oUser1", 2, tt.content)
		if err != nil {
			t.Fatalf("%q: %v", tt.content, err)
		}
		if r.Suggest != tt.suggest || r.Label != tt.label || r.TraceID == "" {
			t.Fatalf("%q: result %+v, want %s/%d", tt.content, r, tt.suggest, tt.label)
		}
	}
	_, err := e.client.MsgSecCheck(context.Background(), testApp, "oUser1", 2, strings.Repeat("字", 2501))
	if apiCode(t, err) != 47001 {
		t.Fatalf("long content: err = %v, want 47001", err)
	}
}

func TestErrorsNeverLeakSecrets(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	wrong := wechat.App{AppID: testAppID, Secret: "WRONG-secret-value-42"}
	_, err := e.client.Code2Session(ctx, wrong, "x")
	if apiCode(t, err) != 40125 {
		t.Fatalf("wrong secret: err = %v, want 40125", err)
	}
	assertNoLeak(t, err, wrong.Secret)
	_, err = e.client.AccessToken(ctx, wrong)
	assertNoLeak(t, err, wrong.Secret)

	// Transport errors normally quote the whole URL.
	store := wechat.NewMemoryTokenStore()
	tok := "TOKEN-value-that-must-not-leak"
	_ = store.Put(ctx, testAppID, wechat.Token{Value: tok, ExpiresAt: time.Now().Add(time.Hour)})
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	c := wechat.NewClient(dead.URL, nil, store)
	_, err = c.Code2Session(ctx, testApp, "x")
	assertNoLeak(t, err, testSecret)
	_, err = c.PhoneNumber(ctx, testApp, "x")
	assertNoLeak(t, err, tok, testSecret)
	odd := wechat.App{AppID: testAppID, Secret: "p@ss/word+LEAK="}
	_, err = c.Code2Session(ctx, odd, "x")
	assertNoLeak(t, err, odd.Secret, url.QueryEscape(odd.Secret))
}

func assertNoLeak(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("expected an error")
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("error %q leaks %q", err, s)
		}
	}
}

func TestHTTPFailuresArePlainErrors(t *testing.T) {
	tests := map[string]http.HandlerFunc{
		"status 502": func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "bad gateway", http.StatusBadGateway)
		},
		"bad JSON": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("<html>oops</html>"))
		},
		"bad countryCode": func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/cgi-bin/stable_token" {
				_, _ = w.Write([]byte(`{"access_token":"t","expires_in":7200}`))
				return
			}
			_, _ = w.Write([]byte(`{"errcode":0,"phone_info":{"countryCode":true}}`))
		},
	}
	for name, h := range tests {
		srv := httptest.NewServer(h)
		c := wechat.NewClient(srv.URL+"/", nil, nil)
		_, err := c.PhoneNumber(context.Background(), testApp, "x")
		srv.Close()
		var apiErr *wechat.APIError
		if err == nil || errors.As(err, &apiErr) {
			t.Fatalf("%s: err = %v, want a plain error", name, err)
		}
		assertNoLeak(t, err, testSecret)
	}
}

func TestMemoryTokenStore(t *testing.T) {
	ctx := context.Background()
	s := wechat.NewMemoryTokenStore()
	if _, ok, err := s.Get(ctx, "a"); ok || err != nil {
		t.Fatalf("empty store: ok=%v err=%v", ok, err)
	}
	want := wechat.Token{Value: "v", ExpiresAt: time.Unix(100, 0)}
	if err := s.Put(ctx, "a", want); err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := s.Get(ctx, "a"); !ok || got != want {
		t.Fatalf("Get = %+v, %v", got, ok)
	}
	if err := s.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Get(ctx, "a"); ok {
		t.Fatal("token survived Delete")
	}
}
