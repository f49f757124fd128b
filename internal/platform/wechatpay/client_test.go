package wechatpay_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/wechatpay"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

var ctx = context.Background()

func apiError(t *testing.T, err error) *wechatpay.APIError {
	t.Helper()
	var apiErr *wechatpay.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v is not an *APIError", err)
	}
	return apiErr
}

func TestPrepayAndRequestPayment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prepayID := e.prepay(t, "KD20250301001", 1990)
	if !strings.HasPrefix(prepayID, "wx") {
		t.Fatalf("prepay_id = %q", prepayID)
	}
	if again := e.prepay(t, "KD20250301001", 1990); again != prepayID {
		t.Fatalf("repeated prepay gave %q, want the same %q", again, prepayID)
	}

	p, err := e.client.RequestPayment(prepayID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Package != "prepay_id="+prepayID || p.SignType != "RSA" || len(p.NonceStr) < 16 {
		t.Fatalf("params = %+v", p)
	}
	if ts, _ := strconv.ParseInt(p.TimeStamp, 10, 64); time.Since(time.Unix(ts, 0)).Abs() > time.Minute {
		t.Fatalf("timeStamp %s is not now", p.TimeStamp)
	}
	// Verify paySign ourselves with the merchant certificate's public key.
	cert, err := wechatpay.ParseCertificate(e.creds.CertificatePEM)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := base64.StdEncoding.DecodeString(p.PaySign)
	digest := sha256.Sum256([]byte(testAppID + "\n" + p.TimeStamp + "\n" + p.NonceStr + "\n" + p.Package + "\n"))
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("paySign does not verify with the merchant public key: %v", err)
	}

	// The sandbox's wx.requestPayment refuses changed parameters and pays
	// with the genuine ones.
	forged := p
	forged.NonceStr += "x"
	if _, err := e.sb.PayWithParams(ctx, testAppID, paysandboxParams(forged)); !errors.Is(err, paysandbox.ErrBadPaySign) {
		t.Fatalf("forged params: err = %v, want ErrBadPaySign", err)
	}
	if _, err := e.sb.PayWithParams(ctx, "wxother", paysandboxParams(p)); !errors.Is(err, paysandbox.ErrBadPaySign) {
		t.Fatalf("other appid: err = %v, want ErrBadPaySign", err)
	}
	d, err := e.sb.PayWithParams(ctx, testAppID, paysandboxParams(p))
	if err != nil || !d.Delivered {
		t.Fatalf("PayWithParams = %+v, %v", d, err)
	}
	if got := e.query(t, "KD20250301001").TradeState; got != wechatpay.TradeStateSuccess {
		t.Fatalf("trade_state = %s", got)
	}
}

func paysandboxParams(p wechatpay.PaymentParams) paysandbox.PaymentParams {
	return paysandbox.PaymentParams{TimeStamp: p.TimeStamp, NonceStr: p.NonceStr, Package: p.Package, SignType: p.SignType, PaySign: p.PaySign}
}

func TestPrepayConflicts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.prepay(t, "KD-CONFLICT-1", 100)
	_, err := e.client.Prepay(ctx, wechatpay.PrepayRequest{Description: "开店测试-商品", OutTradeNo: "KD-CONFLICT-1",
		NotifyURL: e.notify.url(), Total: 200, OpenID: testOpenID})
	if !wechatpay.HasCode(err, "OUT_TRADE_NO_USED") {
		t.Fatalf("changed amount: err = %v, want OUT_TRADE_NO_USED", err)
	}
	e.pay(t, "KD-CONFLICT-1")
	_, err = e.client.Prepay(ctx, wechatpay.PrepayRequest{Description: "开店测试-商品", OutTradeNo: "KD-CONFLICT-1",
		NotifyURL: e.notify.url(), Total: 100, OpenID: testOpenID})
	if !wechatpay.HasCode(err, "ORDERPAID") {
		t.Fatalf("prepay of a paid order: err = %v, want ORDERPAID", err)
	}
	// Arguments WeChat would reject never leave the client.
	for _, bad := range []wechatpay.PrepayRequest{
		{Description: "x", OutTradeNo: "short", NotifyURL: "https://x", Total: 1, OpenID: "o"},
		{Description: "x", OutTradeNo: "KD/../../x", NotifyURL: "https://x", Total: 1, OpenID: "o"},
		{Description: "x", OutTradeNo: "KD-000001", NotifyURL: "https://x", Total: 0, OpenID: "o"},
		{Description: "", OutTradeNo: "KD-000001", NotifyURL: "https://x", Total: 1, OpenID: "o"},
	} {
		if _, err := e.client.Prepay(ctx, bad); !errors.Is(err, wechatpay.ErrInvalidRequest) {
			t.Errorf("Prepay(%+v) = %v, want ErrInvalidRequest", bad, err)
		}
	}
}

func TestQueryPayQuery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.prepay(t, "KD-QUERY-01", 2500)
	tx := e.query(t, "KD-QUERY-01")
	if tx.TradeState != wechatpay.TradeStateNotPay || tx.TransactionID != "" || tx.Amount.Total != 2500 {
		t.Fatalf("before paying: %+v", tx)
	}

	d := e.pay(t, "KD-QUERY-01")
	if !d.Delivered || len(d.Attempts) != 1 || d.EventType != "TRANSACTION.SUCCESS" {
		t.Fatalf("delivery = %+v", d)
	}
	got := e.notify.last(t)
	if got.err != nil {
		t.Fatalf("notification: %v", got.err)
	}
	notified, err := got.n.Transaction()
	if err != nil {
		t.Fatal(err)
	}

	tx = e.query(t, "KD-QUERY-01")
	if tx.TradeState != wechatpay.TradeStateSuccess || tx.TransactionID == "" || tx.SuccessTime == "" {
		t.Fatalf("after paying: %+v", tx)
	}
	if tx.TransactionID != notified.TransactionID || tx.Payer.OpenID != testOpenID || tx.Amount.PayerTotal != 2500 {
		t.Fatalf("query %+v disagrees with notification %+v", tx, notified)
	}
	byID, err := e.client.QueryOrderByID(ctx, tx.TransactionID)
	if err != nil || byID.OutTradeNo != "KD-QUERY-01" {
		t.Fatalf("QueryOrderByID = %+v, %v", byID, err)
	}

	_, err = e.client.QueryOrder(ctx, "KD-NO-SUCH-ORDER")
	if !wechatpay.IsNotFound(err) || apiError(t, err).Code != "ORDER_NOT_EXIST" {
		t.Fatalf("unknown order: err = %v", err)
	}
	if _, err := e.sb.Pay(ctx, testMchID, "KD-QUERY-01"); !errors.Is(err, paysandbox.ErrOrderPaid) {
		t.Fatalf("paying twice: err = %v, want ErrOrderPaid", err)
	}
}

func TestCloseOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.prepay(t, "KD-CLOSE-01", 800)
	if err := e.client.CloseOrder(ctx, "KD-CLOSE-01"); err != nil {
		t.Fatalf("CloseOrder: %v", err)
	}
	if err := e.client.CloseOrder(ctx, "KD-CLOSE-01"); err != nil {
		t.Fatalf("closing twice: %v", err)
	}
	if got := e.query(t, "KD-CLOSE-01").TradeState; got != wechatpay.TradeStateClosed {
		t.Fatalf("trade_state = %s, want CLOSED", got)
	}
	if _, err := e.sb.Pay(ctx, testMchID, "KD-CLOSE-01"); !errors.Is(err, paysandbox.ErrOrderClosed) {
		t.Fatalf("paying a closed order: err = %v, want ErrOrderClosed", err)
	}
	if n := len(e.notify.all()); n != 0 {
		t.Fatalf("%d notifications for a closed order", n)
	}

	e.prepay(t, "KD-CLOSE-02", 800)
	e.pay(t, "KD-CLOSE-02")
	err := e.client.CloseOrder(ctx, "KD-CLOSE-02")
	if !wechatpay.HasCode(err, "ORDERPAID") {
		t.Fatalf("closing a paid order: err = %v, want ORDERPAID", err)
	}
	if err := e.client.CloseOrder(ctx, "KD-CLOSE-99"); !wechatpay.IsNotFound(err) {
		t.Fatalf("closing an unknown order: err = %v", err)
	}
}

func TestOrderNumbersAreEscapedAndSigned(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	no := "KD|2025*03-01_x"
	e.prepay(t, no, 100)
	if got := e.query(t, no); got.OutTradeNo != no {
		t.Fatalf("out_trade_no = %q", got.OutTradeNo)
	}
	if err := e.client.CloseOrder(ctx, no); err != nil {
		t.Fatal(err)
	}
}

func TestTimeExpire(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	clock := &fakeClock{now: time.Now()}
	e.sb.SetClock(clock.Now)
	_, err := e.client.Prepay(ctx, wechatpay.PrepayRequest{Description: "限时商品", OutTradeNo: "KD-EXPIRE-1",
		NotifyURL: e.notify.url(), Total: 100, OpenID: testOpenID, TimeExpire: time.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	if _, err := e.sb.Pay(ctx, testMchID, "KD-EXPIRE-1"); !errors.Is(err, paysandbox.ErrOrderExpired) {
		t.Fatalf("paying after time_expire: err = %v", err)
	}
}

func TestRefunds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.prepay(t, "KD-REFUND-1", 1000)
	e.pay(t, "KD-REFUND-1")
	refund := func(no string, amount int64) (wechatpay.Refund, error) {
		return e.client.Refund(ctx, wechatpay.RefundRequest{OutTradeNo: "KD-REFUND-1", OutRefundNo: no,
			Reason: "不想要了", NotifyURL: e.notify.url(), Refund: amount, Total: 1000})
	}

	r1, err := refund("RF-1", 300)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Status != wechatpay.RefundStatusProcessing || r1.Amount.Refund != 300 || r1.RefundID == "" {
		t.Fatalf("first refund = %+v", r1)
	}
	if again, err := refund("RF-1", 300); err != nil || again.RefundID != r1.RefundID {
		t.Fatalf("retrying RF-1 = %+v, %v; want the same refund", again, err)
	}
	if _, err := refund("RF-1", 200); !wechatpay.HasCode(err, "INVALID_REQUEST") {
		t.Fatalf("reusing RF-1 for another amount: err = %v", err)
	}
	if _, err := refund("RF-2", 701); apiError(t, err).StatusCode != http.StatusBadRequest {
		t.Fatalf("over-refund: err = %v", err)
	}
	if _, err := refund("RF-2", 700); err != nil {
		t.Fatalf("refunding the rest: %v", err)
	}
	if _, err := refund("RF-3", 1); err == nil {
		t.Fatal("refund beyond the total accepted")
	}
	if got := e.query(t, "KD-REFUND-1").TradeState; got != wechatpay.TradeStateRefund {
		t.Fatalf("trade_state = %s, want REFUND", got)
	}

	d, err := e.sb.CompleteRefund(ctx, testMchID, "RF-1", paysandbox.RefundSuccess)
	if err != nil || !d.Delivered || d.EventType != "REFUND.SUCCESS" {
		t.Fatalf("CompleteRefund = %+v, %v", d, err)
	}
	notice, err := e.notify.last(t).n.RefundNotice()
	if err != nil {
		t.Fatal(err)
	}
	if notice.OutRefundNo != "RF-1" || notice.RefundStatus != "SUCCESS" || notice.Amount.Refund != 300 || notice.SuccessTime == "" {
		t.Fatalf("refund notice = %+v", notice)
	}
	if _, err := e.notify.last(t).n.Transaction(); err == nil {
		t.Fatal("a refund notification decoded as a Transaction")
	}
	q, err := e.client.QueryRefund(ctx, "RF-1")
	if err != nil || q.Status != wechatpay.RefundStatusSuccess || q.SuccessTime == "" {
		t.Fatalf("QueryRefund = %+v, %v", q, err)
	}
	if _, err := e.sb.CompleteRefund(ctx, testMchID, "RF-1", paysandbox.RefundClosed); !errors.Is(err, paysandbox.ErrRefundFinal) {
		t.Fatalf("completing twice: err = %v", err)
	}

	// A closed refund gives its amount back.
	if _, err := e.sb.CompleteRefund(ctx, testMchID, "RF-2", paysandbox.RefundClosed); err != nil {
		t.Fatal(err)
	}
	if _, err := refund("RF-3", 700); err != nil {
		t.Fatalf("refunding after RF-2 closed: %v", err)
	}
	if _, err := e.client.QueryRefund(ctx, "RF-404"); !wechatpay.IsNotFound(err) {
		t.Fatalf("unknown refund: err = %v", err)
	}
}

func TestRefundUnpaidOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.prepay(t, "KD-UNPAID-1", 1000)
	_, err := e.client.Refund(ctx, wechatpay.RefundRequest{OutTradeNo: "KD-UNPAID-1", OutRefundNo: "RF-U", Refund: 1, Total: 1000})
	if apiError(t, err).StatusCode != http.StatusBadRequest {
		t.Fatalf("refund of an unpaid order: %v", err)
	}
}

func TestKeyModes(t *testing.T) {
	t.Parallel()
	for _, mode := range []paysandbox.KeyMode{paysandbox.KeyModeCertificate, paysandbox.KeyModePublicKey} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, paysandbox.WithKeyMode(mode))
			e.prepay(t, "KD-MODE-01", 100)
			certOnly := verifierFor(t, e.creds.Platform, true, false)
			pubOnly := verifierFor(t, e.creds.Platform, false, true)
			right, wrong := certOnly, pubOnly
			if mode == paysandbox.KeyModePublicKey {
				right, wrong = pubOnly, certOnly
			}
			if _, err := e.clientWith(right).QueryOrder(ctx, "KD-MODE-01"); err != nil {
				t.Fatalf("verifier of the signing mode: %v", err)
			}
			_, err := e.clientWith(wrong).QueryOrder(ctx, "KD-MODE-01")
			if !errors.Is(err, wechatpay.ErrUnknownSerial) {
				t.Fatalf("verifier of the other mode: err = %v, want ErrUnknownSerial", err)
			}
		})
	}
}

func TestKeyMigration(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // e.client trusts both keys
	e.prepay(t, "KD-MIGRATE", 100)
	e.sb.SetKeyMode(paysandbox.KeyModePublicKey)
	if err := e.client.CloseOrder(ctx, "KD-MIGRATE"); err != nil { // a signed 204
		t.Fatalf("after switching to the public key: %v", err)
	}
	e.sb.SetKeyMode(paysandbox.KeyModeCertificate)
	e.query(t, "KD-MIGRATE")
}

func (e *env) clientWith(v *wechatpay.Verifier) *wechatpay.Client {
	return wechatpay.NewClient(e.base, e.merchant, v, nil)
}

func TestResponseTamperRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.prepay(t, "KD-TAMPER-1", 100)
	cases := []struct {
		mode paysandbox.Tamper
		want error
	}{
		{paysandbox.TamperBadSignature, wechatpay.ErrBadSignature},
		{paysandbox.TamperProbeSignature, wechatpay.ErrBadSignature},
		{paysandbox.TamperStaleTimestamp, wechatpay.ErrStaleTimestamp},
		{paysandbox.TamperUnknownSerial, wechatpay.ErrUnknownSerial},
	}
	for _, c := range cases {
		if err := e.sb.TamperNextResponse(c.mode); err != nil {
			t.Fatal(err)
		}
		_, err := e.client.QueryOrder(ctx, "KD-TAMPER-1")
		if !errors.Is(err, c.want) || wechatpay.IsRetryable(err) {
			t.Errorf("%s: err = %v, want %v, not retryable", c.mode, err, c.want)
		}
	}
	if err := e.sb.TamperNextResponse(paysandbox.TamperBadSignature); err != nil {
		t.Fatal(err)
	}
	if err := e.client.CloseOrder(ctx, "KD-TAMPER-1"); !errors.Is(err, wechatpay.ErrBadSignature) {
		t.Fatalf("tampered 204: err = %v", err)
	}
	if err := e.sb.TamperNextResponse(paysandbox.TamperCorruptCiphertext); err == nil {
		t.Fatal("a ciphertext tamper was accepted for responses")
	}
	e.query(t, "KD-TAMPER-1") // the next response is genuine again
}

// fakeClock is a settable clock.
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

func TestClockWindows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.prepay(t, "KD-CLOCK-01", 100)
	start := time.Now().Truncate(time.Second) // whole seconds, like signed timestamps
	e.sb.SetClock(func() time.Time { return start })
	cases := []struct {
		ahead time.Duration
		check func(error) bool
		what  string
	}{
		{4 * time.Minute, func(err error) bool { return err == nil }, "accepted by both"},
		// The sandbox accepts ≤ 300 s, the client rejects ≥ 5 min.
		{5*time.Minute + 500*time.Millisecond, func(err error) bool { return errors.Is(err, wechatpay.ErrStaleTimestamp) }, "response judged stale"},
		{6 * time.Minute, func(err error) bool { return wechatpay.HasCode(err, "SIGN_ERROR") }, "request judged stale"},
	}
	for _, c := range cases {
		e.client.SetClock(func() time.Time { return start.Add(c.ahead) })
		_, err := e.client.QueryOrder(ctx, "KD-CLOCK-01")
		if !c.check(err) {
			t.Errorf("client %v ahead: err = %v, want %s", c.ahead, err, c.what)
		}
	}
}

// capture records the last request sent, body included.
type capture struct {
	base   http.RoundTripper
	mutate func(body []byte) []byte

	mu   sync.Mutex
	req  *http.Request
	body []byte
}

func (c *capture) RoundTrip(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.req, c.body = r.Clone(r.Context()), body
	c.mu.Unlock()
	if c.mutate != nil {
		body = c.mutate(body)
	}
	r = r.Clone(r.Context())
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	return c.base.RoundTrip(r)
}

func TestSandboxRejectsBodyChangedAfterSigning(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tr := &capture{base: http.DefaultTransport, mutate: func(b []byte) []byte {
		return bytes.Replace(b, []byte(`"total":1000`), []byte(`"total":1`), 1)
	}}
	c := wechatpay.NewClient(e.base, e.merchant, e.verifier, &http.Client{Transport: tr})
	_, err := c.Prepay(ctx, wechatpay.PrepayRequest{Description: "x", OutTradeNo: "KD-ALTER-1",
		NotifyURL: e.notify.url(), Total: 1000, OpenID: testOpenID})
	if apiErr := apiError(t, err); apiErr.StatusCode != http.StatusUnauthorized || apiErr.Code != "SIGN_ERROR" {
		t.Fatalf("altered body: %v, want 401 SIGN_ERROR", err)
	}
	if _, err := e.client.QueryOrder(ctx, "KD-ALTER-1"); !wechatpay.IsNotFound(err) {
		t.Fatalf("the altered order exists: %v", err)
	}
	// Re-encoding the same JSON differently is a change too.
	tr.mutate = func(b []byte) []byte { return bytes.TrimSuffix(b, []byte("\n")) }
	_, err = c.Prepay(ctx, wechatpay.PrepayRequest{Description: "x", OutTradeNo: "KD-ALTER-2",
		NotifyURL: e.notify.url(), Total: 1000, OpenID: testOpenID})
	if !wechatpay.HasCode(err, "SIGN_ERROR") {
		t.Fatalf("body without its trailing newline: %v, want SIGN_ERROR", err)
	}
}

func TestSandboxRejectsReplayedNonce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tr := &capture{base: http.DefaultTransport}
	c := wechatpay.NewClient(e.base, e.merchant, e.verifier, &http.Client{Transport: tr})
	e.prepay(t, "KD-REPLAY-1", 100)
	if _, err := c.QueryOrder(ctx, "KD-REPLAY-1"); err != nil {
		t.Fatal(err)
	}
	tr.mu.Lock()
	replay, body := tr.req.Clone(ctx), tr.body
	tr.mu.Unlock()
	replay.Body, replay.RequestURI = io.NopCloser(bytes.NewReader(body)), ""
	resp, err := http.DefaultTransport.RoundTrip(replay)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(answer), "SIGN_ERROR") {
		t.Fatalf("replayed request: HTTP %d %s, want 401 SIGN_ERROR", resp.StatusCode, answer)
	}
}

func TestSandboxRejectsOtherCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other, err := e.sb.NewMerchant("1900000200", "wxother0000000001")
	if err != nil {
		t.Fatal(err)
	}
	m := merchantFrom(t, other)
	m.MchID = testMchID // another merchant's key under our mchid
	if _, err := e.clientWith(e.verifier).QueryOrder(ctx, "KD-NONE-01"); !wechatpay.IsNotFound(err) {
		t.Fatalf("genuine client: %v", err)
	}
	forged := wechatpay.NewClient(e.base, m, e.verifier, nil)
	if _, err := forged.QueryOrder(ctx, "KD-NONE-01"); !wechatpay.HasCode(err, "SIGN_ERROR") {
		t.Fatalf("wrong serial: %v, want SIGN_ERROR", err)
	}
	m.CertSerial = e.merchant.CertSerial // right serial, wrong key
	forged = wechatpay.NewClient(e.base, m, e.verifier, nil)
	if _, err := forged.QueryOrder(ctx, "KD-NONE-01"); !wechatpay.HasCode(err, "SIGN_ERROR") {
		t.Fatalf("wrong key: %v, want SIGN_ERROR", err)
	}
}

func TestFailNext(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.prepay(t, "KD-FAIL-01", 100)
	const pattern = "/v3/pay/transactions/out-trade-no/{out_trade_no}"
	for _, c := range []struct {
		failure paysandbox.Failure
		status  int
	}{
		{paysandbox.FailSystemError, http.StatusInternalServerError},
		{paysandbox.FailRateLimited, http.StatusTooManyRequests},
	} {
		if err := e.sb.FailNext(pattern, c.failure); err != nil {
			t.Fatal(err)
		}
		_, err := e.client.QueryOrder(ctx, "KD-FAIL-01")
		apiErr := apiError(t, err)
		if apiErr.StatusCode != c.status || apiErr.Code != string(c.failure) || !wechatpay.IsRetryable(err) {
			t.Fatalf("%s: err = %v (retryable %v)", c.failure, err, wechatpay.IsRetryable(err))
		}
	}
	// A concrete path fails only that path.
	if err := e.sb.FailNext("/v3/pay/transactions/jsapi", paysandbox.FailSystemError); err != nil {
		t.Fatal(err)
	}
	e.query(t, "KD-FAIL-01")
	if _, err := e.client.Prepay(ctx, wechatpay.PrepayRequest{Description: "x", OutTradeNo: "KD-FAIL-02",
		NotifyURL: e.notify.url(), Total: 1, OpenID: testOpenID}); !wechatpay.HasCode(err, "SYSTEM_ERROR") {
		t.Fatalf("prepay after FailNext: %v", err)
	}
	// The failed prepay changed nothing; a retry succeeds.
	e.prepay(t, "KD-FAIL-02", 1)
}

func TestFailNextTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.prepay(t, "KD-HANG-01", 100)
	if err := e.sb.FailNext("/v3/pay/transactions/out-trade-no/KD-HANG-01", paysandbox.FailTimeout); err != nil {
		t.Fatal(err)
	}
	impatient := wechatpay.NewClient(e.base, e.merchant, e.verifier, &http.Client{Timeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := impatient.QueryOrder(ctx, "KD-HANG-01")
	if err == nil || !wechatpay.IsRetryable(err) {
		t.Fatalf("hung request: err = %v (retryable %v)", err, wechatpay.IsRetryable(err))
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("waited %v", waited)
	}
	// A caller that gives up is not told to retry.
	if err := e.sb.FailNext("/v3/pay/transactions/out-trade-no/KD-HANG-01", paysandbox.FailTimeout); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(100*time.Millisecond, cancel)
	if _, err := e.client.QueryOrder(cctx, "KD-HANG-01"); !errors.Is(err, context.Canceled) || wechatpay.IsRetryable(err) {
		t.Fatalf("cancelled call: err = %v (retryable %v)", err, wechatpay.IsRetryable(err))
	}
	e.query(t, "KD-HANG-01")
}
