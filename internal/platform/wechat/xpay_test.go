package wechat_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/wechat"
	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
)

var xpayKeys = wechat.XPayKeys{OfferID: "1450000001", AppKey: "prod-app-key", SandboxAppKey: "sandbox-app-key"}

// receiver is a shop's message-push endpoint: it verifies every push with
// wechat.OpenPush and answers as answer says (the ack by default).
type receiver struct {
	t        *testing.T
	cfg      wechat.PushConfig
	mu       sync.Mutex
	delivers []wechat.XPayDeliverNotify
	refunds  []wechat.XPayRefundNotify
	refused  int // pushes whose signature did not verify
	answer   func(n int) (int, string)
	calls    int
}

func newReceiver(t *testing.T, safe bool) (*receiver, *httptest.Server) {
	cfg := wechat.PushConfig{AppID: testAppID, Token: "push-token"}
	if safe {
		cfg.EncodingAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	}
	rc := &receiver{t: t, cfg: cfg}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return rc, srv
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p, err := wechat.OpenPush(rc.cfg, r.URL.Query(), body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err != nil {
		rc.refused++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if p.Encrypted != (rc.cfg.EncodingAESKey != "") {
		rc.t.Errorf("push encrypted %v, want %v", p.Encrypted, !p.Encrypted)
	}
	rc.calls++
	switch p.Event {
	case wechat.XPayDeliverEvent:
		n, err := wechat.DecodeXPayDeliverNotify(p)
		if err != nil {
			rc.t.Errorf("decode delivery: %v", err)
		}
		rc.delivers = append(rc.delivers, n)
	case wechat.XPayRefundEvent:
		n, err := wechat.DecodeXPayRefundNotify(p)
		if err != nil {
			rc.t.Errorf("decode refund: %v", err)
		}
		rc.refunds = append(rc.refunds, n)
	default:
		rc.t.Errorf("unexpected event %q", p.Event)
	}
	if rc.answer != nil {
		status, body := rc.answer(rc.calls)
		w.WriteHeader(status)
		io.WriteString(w, body)
		return
	}
	w.Write(wechat.XPayAck())
}

func (rc *receiver) counts() (delivers, refunds, refused int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.delivers), len(rc.refunds), rc.refused
}

// got returns copies of the pushes received so far.
func (rc *receiver) got() ([]wechat.XPayDeliverNotify, []wechat.XPayRefundNotify) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]wechat.XPayDeliverNotify(nil), rc.delivers...), append([]wechat.XPayRefundNotify(nil), rc.refunds...)
}

func (rc *receiver) delivered() []wechat.XPayDeliverNotify { d, _ := rc.got(); return d }

func (rc *receiver) refunded() []wechat.XPayRefundNotify { _, r := rc.got(); return r }

func (rc *receiver) setAnswer(f func(n int) (int, string)) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.answer, rc.calls = f, 0
}

// xpayEnv is a sandbox with xpay enabled, an item vip_30 at ¥9.90, a push
// receiver and a logged-in buyer whose session key the server holds.
type xpayEnv struct {
	*env
	rc      *receiver
	session wechat.Session
}

func newXPayEnv(t *testing.T, safe bool) *xpayEnv {
	t.Helper()
	e := newEnv(t, nil)
	e.sb.SetXPayKeys(testAppID, xpayKeys)
	if err := e.sb.AddXPayItem(testAppID, "vip_30", 990); err != nil {
		t.Fatal(err)
	}
	rc, srv := newReceiver(t, safe)
	e.sb.SetPushTarget(testAppID, sandbox.PushTarget{URL: srv.URL, Token: rc.cfg.Token, EncodingAESKey: rc.cfg.EncodingAESKey})
	s, err := e.client.Code2Session(context.Background(), testApp, e.loginCode(t, "oBuyer", ""))
	if err != nil {
		t.Fatal(err)
	}
	return &xpayEnv{env: e, rc: rc, session: s}
}

func (e *xpayEnv) sign(t *testing.T, p wechat.VirtualPayment) wechat.VirtualPaymentParams {
	t.Helper()
	params, err := wechat.SignVirtualPayment(p, xpayKeys, e.session.SessionKey)
	if err != nil {
		t.Fatal(err)
	}
	return params
}

func vip(outTradeNo string) wechat.VirtualPayment {
	return wechat.VirtualPayment{ProductID: "vip_30", GoodsPrice: 990, BuyQuantity: 1, OutTradeNo: outTradeNo, Attach: "order=7"}
}

func (e *xpayEnv) pay(t *testing.T, p wechat.VirtualPayment) sandbox.XPayOrder {
	t.Helper()
	o, err := e.sb.XPayPay(testAppID, "oBuyer", e.sign(t, p))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (e *xpayEnv) query(t *testing.T, env int, outTradeNo string) wechat.XPayOrder {
	t.Helper()
	o, err := e.client.XPayQueryOrder(context.Background(), testApp, xpayKeys, env, "oBuyer", outTradeNo)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestXPayPayDeliversThroughThePush(t *testing.T) {
	for _, safe := range []bool{false, true} {
		e := newXPayEnv(t, safe)
		o := e.pay(t, vip("KD20250301001"))
		if o.Status != wechat.XPayStatusDelivered || o.PushAttempts != 1 || !o.PushAcked || o.OrderFee != 990 {
			t.Fatalf("safe %v: order %+v", safe, o)
		}
		if len(e.rc.delivered()) != 1 {
			t.Fatalf("safe %v: %d pushes", safe, len(e.rc.delivered()))
		}
		got := e.rc.delivered()[0]
		want := wechat.XPayDeliverNotify{OpenID: "oBuyer", OutTradeNo: "KD20250301001", Env: 0, MchOrderNo: o.MchOrderNo,
			TransactionID: o.TransactionID, PaidTime: e.clock.Now().Unix(), ProductID: "vip_30", Quantity: 1, OrigPrice: 990,
			ActualPrice: 990, Attach: "order=7"}
		if got != want {
			t.Fatalf("safe %v: push %+v\nwant %+v", safe, got, want)
		}
		q := e.query(t, 0, "KD20250301001")
		if q.Status != 4 || q.OrderID != "KD20250301001" || q.WxOrderID != o.WxOrderID || q.PaidFee != 990 || q.LeftFee != 990 ||
			q.EnvType != 1 || q.ProvideTime == 0 || q.PaidTime != want.PaidTime {
			t.Fatalf("query_order %+v", q)
		}
	}
}

func TestXPayPayRefusals(t *testing.T) {
	e := newXPayEnv(t, true)
	e.pay(t, vip("KD20250301001"))
	wantPayErr := func(name string, p wechat.VirtualPaymentParams, code int, msgPart string) {
		t.Helper()
		_, err := e.sb.XPayPay(testAppID, "oBuyer", p)
		var pe *sandbox.XPayPayError
		if !errors.As(err, &pe) || pe.Code != code || !strings.Contains(pe.Msg, msgPart) {
			t.Errorf("%s: %v, want %d %q", name, err, code, msgPart)
		}
	}
	wantPayErr("reused outTradeNo", e.sign(t, vip("KD20250301001")), sandbox.PayErrField, "used")
	cheap := vip("KD20250301002")
	cheap.GoodsPrice = 1
	wantPayErr("wrong price", e.sign(t, cheap), sandbox.PayErrField, "price")
	unknown := vip("KD20250301003")
	unknown.ProductID = "vip_99"
	wantPayErr("unknown item", e.sign(t, unknown), sandbox.PayErrField, "no item")

	p := e.sign(t, vip("KD20250301004"))
	restringified := p
	restringified.SignData = strings.ReplaceAll(p.SignData, ",", ", ")
	wantPayErr("signData re-stringified", restringified, sandbox.PayErrUserSig, "signature")
	otherKey, _ := wechat.SignVirtualPayment(vip("KD20250301004"), wechat.XPayKeys{OfferID: xpayKeys.OfferID, AppKey: "wrong"}, e.session.SessionKey)
	wantPayErr("wrong AppKey", otherKey, sandbox.PayErrPaySig, "paySig")
	sandboxEnv := vip("KD20250301004")
	sandboxEnv.Env = 1
	crossed, _ := wechat.SignVirtualPayment(sandboxEnv, wechat.XPayKeys{OfferID: xpayKeys.OfferID, SandboxAppKey: xpayKeys.AppKey}, e.session.SessionKey)
	wantPayErr("env 1 signed with the production key", crossed, sandbox.PayErrPaySig, "env 1")
	numericOffer := `{"offerId":1450000001,"buyQuantity":1,"env":0,"currencyType":"CNY","productId":"vip_30","goodsPrice":990,"outTradeNo":"KD20250301005"}`
	wantPayErr("offerId a number", wechat.VirtualPaymentParams{Mode: "short_series_goods", SignData: numericOffer,
		PaySig:    wechat.XPayPaySig(xpayKeys.AppKey, "requestVirtualPayment", []byte(numericOffer)),
		Signature: wechat.XPayUserSig(e.session.SessionKey, []byte(numericOffer))}, sandbox.PayErrField, "offerId")
	coin := p
	coin.Mode = "short_series_coin"
	wantPayErr("coin mode", coin, sandbox.PayErrField, "mode")

	// A new wx.login replaces the session key; an expired one is gone.
	if _, err := e.client.Code2Session(context.Background(), testApp, e.loginCode(t, "oBuyer", "")); err != nil {
		t.Fatal(err)
	}
	wantPayErr("old session key", p, sandbox.PayErrUserSig, "session key")
	e.sb.ExpireXPaySession(testAppID, "oBuyer")
	wantPayErr("expired session", p, sandbox.PayErrUserSig, "session key")
	if n := len(e.sb.XPayOrders(testAppID)); n != 1 {
		t.Fatalf("%d orders after refusals, want 1", n)
	}
}

func TestXPayPushRetriesUntilAcked(t *testing.T) {
	e := newXPayEnv(t, true)
	// The shop's server fails twice (an error, then HTTP 500), then acks.
	e.rc.setAnswer(func(n int) (int, string) {
		switch n {
		case 1:
			return http.StatusOK, `{"ErrCode":1,"ErrMsg":"busy"}`
		case 2:
			return http.StatusInternalServerError, "oops"
		}
		return http.StatusOK, string(wechat.XPayAck())
	})
	o := e.pay(t, vip("KD20250301001"))
	if o.Status != wechat.XPayStatusPaid || o.PushAcked {
		t.Fatalf("unacked push: order %+v", o)
	}
	if e.sb.DeliverXPayPushes(testAppID) != 0 || e.sb.DeliverXPayPushes(testAppID) != 1 {
		t.Fatal("third attempt not acked")
	}
	got := e.sb.XPayOrders(testAppID)[0]
	if got.Status != wechat.XPayStatusDelivered || got.PushAttempts != 3 || len(e.rc.delivered()) != 3 {
		t.Fatalf("after retries %+v, %d pushes", got, len(e.rc.delivered()))
	}
	if e.sb.DeliverXPayPushes(testAppID) != 0 || len(e.rc.delivered()) != 3 {
		t.Fatal("an acked push was sent again")
	}

	// A push signed with another Token is refused by the receiver and retried.
	e.rc.setAnswer(nil)
	e.sb.BadTokenXPayPushes(testAppID, 1)
	if o := e.pay(t, vip("KD20250301002")); o.Status != wechat.XPayStatusPaid {
		t.Fatalf("bad-token push acked: %+v", o)
	}
	if _, _, refused := e.rc.counts(); refused != 1 {
		t.Fatalf("refused %d", refused)
	}
	if e.sb.DeliverXPayPushes(testAppID) != 1 {
		t.Fatal("retry after a bad token not acked")
	}

	// A receiver that never acks gets 15 tries, then the order waits for
	// notify_provide_goods.
	e.rc.setAnswer(func(int) (int, string) { return http.StatusOK, "success" })
	e.pay(t, vip("KD20250301003"))
	for range 20 {
		e.sb.DeliverXPayPushes(testAppID)
	}
	last := e.sb.XPayOrders(testAppID)[2]
	if last.PushAttempts != 15 || last.Status != wechat.XPayStatusPaid {
		t.Fatalf("after giving up: %+v", last)
	}
	ctx := context.Background()
	if err := e.client.XPayNotifyProvideGoods(ctx, testApp, xpayKeys, 0, "KD20250301003"); err != nil {
		t.Fatal(err)
	}
	if err := e.client.XPayNotifyProvideGoods(ctx, testApp, xpayKeys, 0, "KD20250301003"); err != nil {
		t.Fatalf("repeat notify_provide_goods: %v, want success", err)
	}
	if q := e.query(t, 0, "KD20250301003"); q.Status != wechat.XPayStatusDelivered {
		t.Fatalf("after notify_provide_goods %+v", q)
	}
}

func TestXPayLostDelayedAndDuplicatePushes(t *testing.T) {
	e := newXPayEnv(t, false)
	e.sb.DropXPayPushes(testAppID, 1)
	e.pay(t, vip("KD20250301001"))
	e.sb.DeliverXPayPushes(testAppID)
	if d, _, _ := e.rc.counts(); d != 0 {
		t.Fatalf("a lost push arrived %d times", d)
	}
	if q := e.query(t, 0, "KD20250301001"); q.Status != wechat.XPayStatusPaid {
		t.Fatalf("lost push: %+v", q)
	}

	e.sb.DelayXPayPushes(testAppID, 1)
	if o := e.pay(t, vip("KD20250301002")); o.PushAttempts != 0 || o.Status != wechat.XPayStatusPaid {
		t.Fatalf("delayed push sent: %+v", o)
	}
	if e.sb.DeliverXPayPushes(testAppID) != 1 {
		t.Fatal("delayed push not delivered")
	}

	n, err := e.sb.DuplicateXPayPush(testAppID, "KD20250301002", 3)
	if err != nil || n != 3 {
		t.Fatalf("duplicates: %d %v", n, err)
	}
	if d, _, _ := e.rc.counts(); d != 4 || e.rc.delivered()[3] != e.rc.delivered()[0] {
		t.Fatalf("%d pushes; duplicates %+v", d, e.rc.delivered())
	}
	if _, err := e.sb.DuplicateXPayPush(testAppID, "KD-none-000", 1); err == nil {
		t.Fatal("duplicate of an unknown order")
	}

	// The demo's loop retries held pushes on its own; an XML ack counts.
	e.rc.setAnswer(func(int) (int, string) {
		return http.StatusOK, "<xml><ErrCode>0</ErrCode><ErrMsg>success</ErrMsg></xml>"
	})
	e.sb.DelayXPayPushes(testAppID, 1)
	e.pay(t, vip("KD20250301003"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.sb.RunXPay(ctx, testAppID, 5*time.Millisecond); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for e.sb.XPayOrders(testAppID)[2].Status != wechat.XPayStatusDelivered {
		if time.Now().After(deadline) {
			t.Fatal("RunXPay did not deliver the held push")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
}

func TestXPayConcurrentPayments(t *testing.T) {
	e := newXPayEnv(t, true)
	var wg sync.WaitGroup
	for i := range 8 {
		params := e.sign(t, vip(fmt.Sprintf("KD2025030100%d", i)))
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, err := e.sb.XPayPay(testAppID, "oBuyer", params); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			e.sb.DeliverXPayPushes(testAppID)
		}()
	}
	wg.Wait()
	orders := e.sb.XPayOrders(testAppID)
	for _, o := range orders {
		if o.Status != wechat.XPayStatusDelivered {
			t.Errorf("order %s status %d", o.OutTradeNo, o.Status)
		}
	}
	if d, _, _ := e.rc.counts(); len(orders) != 8 || d < 8 {
		t.Fatalf("%d orders, %d pushes", len(orders), d)
	}
}

func TestXPayRefund(t *testing.T) {
	e := newXPayEnv(t, true)
	ctx := context.Background()
	e.pay(t, vip("KD20250301001"))
	r := wechat.XPayRefund{OpenID: "oBuyer", OrderID: "KD20250301001", RefundOrderID: "RF20250301001", LeftFee: 990, RefundFee: 500}
	if err := e.client.XPayRefundOrder(ctx, testApp, xpayKeys, r); err != nil {
		t.Fatal(err)
	}
	if err := e.client.XPayRefundOrder(ctx, testApp, xpayKeys, r); err != nil {
		t.Fatalf("the same refund again: %v, want success", err)
	}
	if q := e.query(t, 0, "KD20250301001"); q.Status != wechat.XPayStatusDelivered || q.LeftFee != 490 || q.RefundFee != 0 {
		t.Fatalf("before settling %+v", q)
	}
	stale := r
	stale.RefundOrderID, stale.RefundFee = "RF20250301002", 100
	if err := e.client.XPayRefundOrder(ctx, testApp, xpayKeys, stale); !wechat.IsXPayRefused(err) || wechat.ErrCode(err) != wechat.ErrXPayParam {
		t.Fatalf("stale left_fee: %v", err)
	}
	if e.sb.SettleXPayRefunds(testAppID, false) != 1 {
		t.Fatal("nothing settled")
	}
	if q := e.query(t, 0, "KD20250301001"); q.Status != wechat.XPayStatusRefunded || q.LeftFee != 490 || q.RefundFee != 500 {
		t.Fatalf("after settling %+v", q)
	}
	if _, n, _ := e.rc.counts(); n != 1 || e.rc.refunded()[0].MchRefundID != "RF20250301001" || e.rc.refunded()[0].RefundFee != 500 ||
		e.rc.refunded()[0].RetCode != 0 || e.rc.refunded()[0].MchOrderID != "KD20250301001" {
		t.Fatalf("refund pushes %+v", e.rc.refunded())
	}

	// A failed refund: status 7, RetCode non-zero, the fee refundable again.
	rest := wechat.XPayRefund{OpenID: "oBuyer", OrderID: "KD20250301001", RefundOrderID: "RF20250301003", LeftFee: 490, RefundFee: 490, Reason: "2", ReqFrom: "2"}
	if err := e.client.XPayRefundOrder(ctx, testApp, xpayKeys, rest); err != nil {
		t.Fatal(err)
	}
	e.sb.SettleXPayRefunds(testAppID, true)
	if q := e.query(t, 0, "KD20250301001"); q.Status != wechat.XPayStatusRefundFailed || q.LeftFee != 490 {
		t.Fatalf("after a failed refund %+v", q)
	}
	if e.rc.refunded()[1].RetCode == 0 {
		t.Fatalf("failed refund pushed as %+v", e.rc.refunded()[1])
	}

	// iOS orders are Apple's to refund.
	e.sb.SetXPayIOS(testAppID, true)
	if o := e.pay(t, vip("KD20250301009")); !o.IOS {
		t.Fatalf("not an iOS order: %+v", o)
	}
	ios := wechat.XPayRefund{OpenID: "oBuyer", OrderID: "KD20250301009", RefundOrderID: "RF20250301009", LeftFee: 990, RefundFee: 990}
	if err := e.client.XPayRefundOrder(ctx, testApp, xpayKeys, ios); !wechat.IsXPayRefused(err) || !strings.Contains(err.Error(), "Apple") {
		t.Fatalf("iOS refund: %v", err)
	}
	tiny := vip("KD20250301010")
	_ = e.sb.AddXPayItem(testAppID, "sticker", 50)
	tiny.ProductID, tiny.GoodsPrice = "sticker", 50
	if _, err := e.sb.XPayPay(testAppID, "oBuyer", e.sign(t, tiny)); err == nil {
		t.Fatal("an iOS payment under ¥1 went through")
	}
}

func TestXPayClientErrors(t *testing.T) {
	e := newXPayEnv(t, true)
	ctx := context.Background()
	e.pay(t, vip("KD20250301001"))

	// Refused: the wrong key, the other env's key, an unknown order, another openid.
	wrong := xpayKeys
	wrong.AppKey = "not-the-key"
	_, err := e.client.XPayQueryOrder(ctx, testApp, wrong, 0, "oBuyer", "KD20250301001")
	if !wechat.IsXPayRefused(err) || wechat.IsTransient(err) || wechat.ErrCode(err) != wechat.ErrXPaySignature {
		t.Fatalf("wrong AppKey: %v", err)
	}
	crossed := xpayKeys
	crossed.SandboxAppKey = xpayKeys.AppKey
	if _, err := e.client.XPayQueryOrder(ctx, testApp, crossed, 1, "oBuyer", "KD20250301001"); wechat.ErrCode(err) != wechat.ErrXPaySignature {
		t.Fatalf("env 1 signed with the production key: %v", err)
	}
	if _, err := e.client.XPayQueryOrder(ctx, testApp, xpayKeys, 1, "oBuyer", "KD20250301001"); !wechat.IsXPayRefused(err) {
		t.Fatalf("a production order in the sandbox env: %v", err)
	}
	if _, err := e.client.XPayQueryOrder(ctx, testApp, xpayKeys, 0, "oBuyer", "KD-no-such-1"); wechat.ErrCode(err) != wechat.ErrXPayParam {
		t.Fatalf("unknown order: %v", err)
	}
	if _, err := e.client.XPayQueryOrder(ctx, testApp, xpayKeys, 0, "oSomeoneElse", "KD20250301001"); wechat.ErrCode(err) != wechat.ErrXPayOpenID {
		t.Fatalf("another openid: %v", err)
	}
	if err := e.client.XPayNotifyProvideGoods(ctx, testApp, wechat.XPayKeys{AppKey: "k"}, 1, "KD20250301001"); !errors.Is(err, wechat.ErrXPayInvalid) ||
		!wechat.IsXPayRefused(err) || wechat.IsTransient(err) {
		t.Fatalf("no sandbox AppKey: %v", err)
	}
	tooMuch := wechat.XPayRefund{OpenID: "oBuyer", OrderID: "KD20250301001", RefundOrderID: "RF20250301001", LeftFee: 990, RefundFee: 991}
	if err := e.client.XPayRefundOrder(ctx, testApp, xpayKeys, tooMuch); !errors.Is(err, wechat.ErrXPayInvalid) {
		t.Fatalf("refund above left_fee: %v", err)
	}

	// Try again: WeChat busy, no answer.
	e.sb.FailNext("/xpay/query_order", -1)
	if _, err := e.client.XPayQueryOrder(ctx, testApp, xpayKeys, 0, "oBuyer", "KD20250301001"); !wechat.IsTransient(err) || wechat.IsXPayRefused(err) {
		t.Fatalf("busy: %v", err)
	}
	e.sb.HangNext("/xpay/notify_provide_goods")
	short := wechat.NewClient(e.srv.URL, &http.Client{Timeout: 100 * time.Millisecond}, nil)
	short.SetClock(e.clock.Now)
	if err := short.XPayNotifyProvideGoods(ctx, testApp, xpayKeys, 0, "KD20250301001"); !wechat.IsTransient(err) || wechat.IsXPayRefused(err) {
		t.Fatalf("no answer: %v", err)
	}
	// An expired access token is replaced and the call signed again.
	e.sb.ExpireTokens(testAppID)
	if q := e.query(t, 0, "KD20250301001"); q.Status != wechat.XPayStatusDelivered {
		t.Fatalf("after token refresh %+v", q)
	}
}

// The sandbox env (1) is signed with the sandbox AppKey end to end.
func TestXPaySandboxEnv(t *testing.T) {
	e := newXPayEnv(t, false)
	p := vip("KD20250301001")
	p.Env = 1
	o := e.pay(t, p)
	if o.Env != 1 || e.rc.delivered()[0].Env != 1 {
		t.Fatalf("order %+v push %+v", o, e.rc.delivered())
	}
	if q := e.query(t, 1, "KD20250301001"); q.EnvType != 2 || q.Status != wechat.XPayStatusDelivered {
		t.Fatalf("query %+v", q)
	}
	r := wechat.XPayRefund{OpenID: "oBuyer", OrderID: "KD20250301001", RefundOrderID: "RF20250301001", LeftFee: 990, RefundFee: 990, Env: 1}
	if err := e.client.XPayRefundOrder(context.Background(), testApp, xpayKeys, r); err != nil {
		t.Fatal(err)
	}
}
