package paysandbox_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

const (
	mchID  = "1900000109"
	appID  = "wxd678efh567hg6787"
	prefix = "/sandbox/wechatpay"
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

// env is a sandbox mounted under prefix and a hand-rolled merchant signer,
// independent of package wechatpay.
type env struct {
	sb    *paysandbox.Sandbox
	base  string
	creds paysandbox.Credentials
	key   *rsa.PrivateKey
	clock *clock
}

func newEnv(t *testing.T, opts ...paysandbox.Option) *env {
	t.Helper()
	sb, err := paysandbox.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	c := &clock{now: time.Now().Truncate(time.Second)}
	sb.SetClock(c.Now)
	creds, err := sb.NewMerchant(mchID, appID)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(creds.PrivateKeyPEM))
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", http.StripPrefix(prefix, sb))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{sb: sb, base: srv.URL + prefix, creds: creds, key: key.(*rsa.PrivateKey), clock: c}
}

// signing describes how a test request is signed; zero fields take the
// genuine values.
type signing struct {
	mchid, serial, nonce string
	ts                   time.Time
	signedURI            string // what is signed instead of the real URI
	signedBody           *string
	header               string // a literal Authorization header
	omit                 bool   // send no Authorization header
	key                  *rsa.PrivateKey
}

func (e *env) authorization(method, uri, body string, s signing) string {
	if s.header != "" {
		return s.header
	}
	if s.mchid == "" {
		s.mchid = e.creds.MchID
	}
	if s.serial == "" {
		s.serial = e.creds.CertSerial
	}
	if s.nonce == "" {
		s.nonce = fmt.Sprintf("N%d", time.Now().UnixNano())
	}
	if s.ts.IsZero() {
		s.ts = e.clock.Now()
	}
	if s.signedURI == "" {
		s.signedURI = uri
	}
	if s.signedBody == nil {
		s.signedBody = &body
	}
	if s.key == nil {
		s.key = e.key
	}
	ts := strconv.FormatInt(s.ts.Unix(), 10)
	digest := sha256.Sum256([]byte(method + "\n" + s.signedURI + "\n" + ts + "\n" + s.nonce + "\n" + *s.signedBody + "\n"))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, digest[:])
	return fmt.Sprintf(`WECHATPAY2-SHA256-RSA2048 mchid="%s",nonce_str="%s",timestamp="%s",serial_no="%s",signature="%s"`,
		s.mchid, s.nonce, ts, s.serial, base64.StdEncoding.EncodeToString(sig))
}

// call sends a signed API request and returns the response and its body.
func (e *env) call(t *testing.T, method, uri, body string, s signing) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.base+uri, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if !s.omit {
		req.Header.Set("Authorization", e.authorization(method, uri, body, s))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

// verifyResponse checks the response signature with the platform
// certificate, independently of package wechatpay.
func (e *env) verifyResponse(t *testing.T, resp *http.Response, body []byte) {
	t.Helper()
	block, _ := pem.Decode([]byte(e.creds.Platform.CertificatePEM))
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%X", cert.SerialNumber.Bytes()); resp.Header.Get("Wechatpay-Serial") != got {
		t.Fatalf("Wechatpay-Serial = %q, want %q", resp.Header.Get("Wechatpay-Serial"), got)
	}
	msg := resp.Header.Get("Wechatpay-Timestamp") + "\n" + resp.Header.Get("Wechatpay-Nonce") + "\n" + string(body) + "\n"
	sig, _ := base64.StdEncoding.DecodeString(resp.Header.Get("Wechatpay-Signature"))
	digest := sha256.Sum256([]byte(msg))
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("response signature (HTTP %d, body %q): %v", resp.StatusCode, body, err)
	}
}

func (e *env) prepayBody(no string, total int) string {
	return fmt.Sprintf(`{"appid":%q,"mchid":%q,"description":"测试","out_trade_no":%q,"notify_url":"https://shop.example/notify","amount":{"total":%d,"currency":"CNY"},"payer":{"openid":"oUser"}}`,
		e.creds.AppID, e.creds.MchID, no, total)
}

func wantCode(t *testing.T, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	var e struct{ Code string }
	json.Unmarshal(body, &e)
	if resp.StatusCode != status || e.Code != code {
		t.Fatalf("HTTP %d %s, want %d %s", resp.StatusCode, body, status, code)
	}
}

func TestAuthorization(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const uri = "/v3/pay/transactions/jsapi"
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	original := e.prepayBody("KD-AUTH-00", 100)
	cases := map[string]signing{
		"no header":          {omit: true},
		"other scheme":       {header: `Bearer abc`},
		"missing field":      {header: `WECHATPAY2-SHA256-RSA2048 mchid="1900000109",nonce_str="n",timestamp="1"`},
		"unknown mchid":      {mchid: "1900000999"},
		"wrong serial":       {serial: "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"},
		"wrong key":          {key: other},
		"301 s old":          {ts: e.clock.Now().Add(-301 * time.Second)},
		"301 s ahead":        {ts: e.clock.Now().Add(301 * time.Second)},
		"body changed":       {signedBody: &original},
		"other path signed":  {signedURI: "/v3/pay/transactions/native"},
		"prefix path signed": {signedURI: prefix + uri},
	}
	for name, s := range cases {
		resp, body := e.call(t, http.MethodPost, uri, e.prepayBody("KD-AUTH-01", 100), s)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"code":"SIGN_ERROR"`) {
			t.Errorf("%s: HTTP %d %s, want 401 SIGN_ERROR", name, resp.StatusCode, body)
			continue
		}
		e.verifyResponse(t, resp, body) // errors are signed too
	}
	// Exactly 300 s is still accepted; the nonce is then spent.
	s := signing{ts: e.clock.Now().Add(-300 * time.Second), nonce: "NONCE-ONCE"}
	resp, body := e.call(t, http.MethodPost, uri, e.prepayBody("KD-AUTH-01", 100), s)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("300 s old: HTTP %d %s", resp.StatusCode, body)
	}
	e.verifyResponse(t, resp, body)
	resp, body = e.call(t, http.MethodPost, uri, e.prepayBody("KD-AUTH-02", 100), signing{nonce: "NONCE-ONCE"})
	wantCode(t, resp, body, http.StatusUnauthorized, "SIGN_ERROR")
}

func TestResponsesAreSigned(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, body := e.call(t, http.MethodPost, "/v3/pay/transactions/jsapi", e.prepayBody("KD-SIGNED-1", 100), signing{})
	e.verifyResponse(t, resp, body)
	closeBody := `{"mchid":"` + mchID + `"}`
	resp, body = e.call(t, http.MethodPost, "/v3/pay/transactions/out-trade-no/KD-SIGNED-1/close", closeBody, signing{})
	if resp.StatusCode != http.StatusNoContent || len(body) != 0 {
		t.Fatalf("close: HTTP %d %q", resp.StatusCode, body)
	}
	e.verifyResponse(t, resp, body) // signed over "ts\nnonce\n\n"
	resp, body = e.call(t, http.MethodGet, "/v3/no/such/api", "", signing{})
	wantCode(t, resp, body, http.StatusNotFound, "NOT_FOUND")
	e.verifyResponse(t, resp, body)
}

func TestRequestValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const uri = "/v3/pay/transactions/jsapi"
	good := e.prepayBody("KD-VALID-1", 100)
	cases := []struct {
		body, code string
	}{
		{`{`, "PARAM_ERROR"},
		{strings.Replace(good, appID, "wxsomebodyelse0001", 1), "APPID_MCHID_NOT_MATCH"},
		{strings.Replace(good, `"mchid":"`+mchID, `"mchid":"1900000999`, 1), "PARAM_ERROR"},
		{strings.Replace(good, `"total":100`, `"total":0`, 1), "PARAM_ERROR"},
		{strings.Replace(good, "KD-VALID-1", "KD/1", 1), "PARAM_ERROR"},
		{strings.Replace(good, "https://shop.example/notify", "notify", 1), "PARAM_ERROR"},
		{strings.Replace(good, "oUser", "", 1), "PARAM_ERROR"},
	}
	for _, c := range cases {
		resp, body := e.call(t, http.MethodPost, uri, c.body, signing{})
		wantCode(t, resp, body, http.StatusBadRequest, c.code)
	}
	resp, body := e.call(t, http.MethodGet, "/v3/pay/transactions/out-trade-no/KD-VALID-1", "", signing{})
	wantCode(t, resp, body, http.StatusBadRequest, "PARAM_ERROR") // no ?mchid=
}

// control posts to a /sandbox/pay/ endpoint and decodes the answer.
func (e *env) control(t *testing.T, path string, in any, out any) int {
	t.Helper()
	data, _ := json.Marshal(in)
	resp, err := http.Post(e.base+"/sandbox/pay/"+path, "application/json", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s: decode: %v", path, err)
		}
	}
	return resp.StatusCode
}

func TestControlEndpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var creds paysandbox.Credentials
	if st := e.control(t, "merchant", map[string]string{"appid": "wxdemo0000000001"}, &creds); st != 200 {
		t.Fatalf("merchant: HTTP %d", st)
	}
	if creds.MchID == "" || creds.AppID != "wxdemo0000000001" || len(creds.APIv3Key) != 32 ||
		!strings.Contains(creds.PrivateKeyPEM, "BEGIN PRIVATE KEY") || creds.Platform.PublicKeyID == "" {
		t.Fatalf("credentials = %+v", creds)
	}
	if st := e.control(t, "sub-merchant", map[string]any{"sp_mchid": creds.MchID, "sub_mchid": "1600000001", "sub_appids": []string{"wxdemo0000000002"}}, nil); st != 200 {
		t.Fatalf("sub-merchant: HTTP %d", st)
	}
	if st := e.control(t, "sub-merchant", map[string]any{"sp_mchid": "1999999999", "sub_mchid": "1600000002"}, nil); st != 400 {
		t.Fatalf("a sub-merchant of an unknown provider: HTTP %d", st)
	}
	var platform paysandbox.Platform
	e.control(t, "platform", struct{}{}, &platform)
	if platform.CertSerial != e.creds.Platform.CertSerial || !strings.HasPrefix(platform.PublicKeyID, "PUB_KEY_ID_") {
		t.Fatalf("platform = %+v", platform)
	}

	// Pay by prepay_id over HTTP, with a receiver standing in for the shop.
	var hits int
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.WriteHeader(http.StatusNoContent)
	}))
	defer shop.Close()
	body := strings.Replace(e.prepayBody("KD-CTL-0001", 100), "https://shop.example/notify", shop.URL, 1)
	_, answer := e.call(t, http.MethodPost, "/v3/pay/transactions/jsapi", body, signing{})
	var prepay struct {
		PrepayID string `json:"prepay_id"`
	}
	json.Unmarshal(answer, &prepay)
	var d paysandbox.Delivery
	if st := e.control(t, "pay", map[string]string{"prepay_id": prepay.PrepayID}, &d); st != 200 || !d.Delivered || hits != 1 {
		t.Fatalf("pay: HTTP %d %+v, %d hits", st, d, hits)
	}
	var failed map[string]string
	if st := e.control(t, "pay", map[string]string{"prepay_id": prepay.PrepayID}, &failed); st != 400 || failed["error"] == "" {
		t.Fatalf("paying twice: HTTP %d %v", st, failed)
	}
	if st := e.control(t, "renotify", map[string]string{"mchid": mchID, "out_trade_no": "KD-CTL-0001"}, &d); st != 200 || hits != 2 {
		t.Fatalf("renotify: HTTP %d, %d hits", st, hits)
	}

	for _, c := range []struct {
		path string
		in   any
		want int
	}{
		{"tamper-next", map[string]string{"mode": "bad_signature"}, 200},
		{"tamper-next", map[string]string{"mode": "nonsense"}, 400},
		{"tamper-next-response", map[string]string{"mode": "corrupt_ciphertext"}, 400},
		{"drop-next", struct{}{}, 200},
		{"corrupt-next-bill", struct{}{}, 200},
		{"fail-next", map[string]string{"path": "/v3/bill/tradebill", "failure": "FREQUENCY_LIMITED"}, 200},
		{"fail-next", map[string]string{"path": "/v3/bill/tradebill", "failure": "SOMETIMES"}, 400},
		{"key-mode", map[string]string{"mode": "public_key"}, 200},
		{"key-mode", map[string]string{"mode": "both"}, 400},
		{"complete-refund", map[string]string{"mchid": mchID, "out_refund_no": "RF-X", "status": "SUCCESS"}, 400},
		{"no-such-control", struct{}{}, 404},
	} {
		if st := e.control(t, c.path, c.in, nil); st != c.want {
			t.Errorf("%s %v: HTTP %d, want %d", c.path, c.in, st, c.want)
		}
	}
	if e.sb.Platform().KeyMode != paysandbox.KeyModePublicKey {
		t.Fatal("key-mode control had no effect")
	}
	resp, body2 := e.call(t, http.MethodGet, "/v3/bill/tradebill?bill_date=2025-03-01", "", signing{})
	wantCode(t, resp, body2, http.StatusTooManyRequests, "FREQUENCY_LIMITED")

	resp, err := http.Get(e.base + "/sandbox/pay/platform")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET control: HTTP %d", resp.StatusCode)
	}
}

func TestBillDownload(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	defer shop.Close()
	body := strings.Replace(e.prepayBody("KD-BILL-0001", 100), "https://shop.example/notify", shop.URL, 1)
	e.call(t, http.MethodPost, "/v3/pay/transactions/jsapi", body, signing{})
	if _, err := e.sb.Pay(t.Context(), mchID, "KD-BILL-0001"); err != nil {
		t.Fatal(err)
	}
	date := e.clock.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	resp, answer := e.call(t, http.MethodGet, "/v3/bill/tradebill?bill_date="+date+"&bill_type=ALL", "", signing{})
	e.verifyResponse(t, resp, answer)
	var info struct {
		HashType    string `json:"hash_type"`
		DownloadURL string `json:"download_url"`
	}
	json.Unmarshal(answer, &info)
	u, err := url.Parse(info.DownloadURL)
	if err != nil || u.Host != "api.mch.weixin.qq.com" || info.HashType != "SHA1" {
		t.Fatalf("tradebill answer %s", answer)
	}

	unsigned, err := http.Get(e.base + u.RequestURI())
	if err != nil {
		t.Fatal(err)
	}
	unsigned.Body.Close()
	if unsigned.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned download: HTTP %d", unsigned.StatusCode)
	}
	resp, file := e.call(t, http.MethodGet, u.RequestURI(), "", signing{})
	if resp.StatusCode != 200 || resp.Header.Get("Wechatpay-Signature") != "" || !bytes.Contains(file, []byte("`KD-BILL-0001")) {
		t.Fatalf("download: HTTP %d, signature %q:\n%s", resp.StatusCode, resp.Header.Get("Wechatpay-Signature"), file)
	}

	other, err := e.sb.NewMerchant("1900000200", "wxother0000000001")
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(other.PrivateKeyPEM))
	otherKey, _ := x509.ParsePKCS8PrivateKey(block.Bytes)
	resp, answer = e.call(t, http.MethodGet, u.RequestURI(), "", signing{mchid: other.MchID, serial: other.CertSerial, key: otherKey.(*rsa.PrivateKey)})
	wantCode(t, resp, answer, http.StatusForbidden, "NO_AUTH")

	e.clock.Advance(31 * time.Second)
	resp, answer = e.call(t, http.MethodGet, u.RequestURI(), "", signing{})
	wantCode(t, resp, answer, http.StatusBadRequest, "INVALID_REQUEST")
}

func TestNewValidation(t *testing.T) {
	t.Parallel()
	sb, err := paysandbox.New()
	if err != nil {
		t.Fatal(err)
	}
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	for name, m := range map[string]paysandbox.MerchantConfig{
		"no serial":   {MchID: "1", AppID: "wx", PublicKey: &key.PublicKey, APIv3Key: make([]byte, 32)},
		"no key":      {MchID: "1", AppID: "wx", CertSerial: "AB", APIv3Key: make([]byte, 32)},
		"short APIv3": {MchID: "1", AppID: "wx", CertSerial: "AB", PublicKey: &key.PublicKey, APIv3Key: make([]byte, 16)},
	} {
		if err := sb.AddMerchant(m); err == nil {
			t.Errorf("%s: AddMerchant accepted", name)
		}
	}
	if err := sb.FailNext("/v3/pay/transactions/jsapi", "BROKEN"); err == nil {
		t.Error("FailNext accepted an unknown failure")
	}
	if err := sb.TamperNextNotification("sideways"); err == nil {
		t.Error("TamperNextNotification accepted an unknown mode")
	}
	if _, err := sb.CompleteRefund(t.Context(), "1", "RF", "DONE"); err == nil {
		t.Error("CompleteRefund accepted an unknown status")
	}
}
