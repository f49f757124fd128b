package sandbox_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/wechat"
)

// pushLog is a push receiver that verifies signatures and acks xpay pushes.
type pushLog struct {
	cfg    wechat.PushConfig
	mu     sync.Mutex
	events []string
}

func (l *pushLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p, err := wechat.OpenPush(l.cfg, r.URL.Query(), body)
	if err != nil {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	l.mu.Lock()
	l.events = append(l.events, p.Event)
	l.mu.Unlock()
	w.Write(wechat.XPayAck())
}

func (l *pushLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.events)
}

func num(t *testing.T, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%v is not a number", v)
	}
	i, _ := n.Int64()
	return i
}

// The demo's path: every step through the HTTP controls.
func TestXPayControls(t *testing.T) {
	e := newEnv(t)
	log := &pushLog{cfg: wechat.PushConfig{AppID: appID, Token: "tok", EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}}
	receiver := httptest.NewServer(log)
	t.Cleanup(receiver.Close)

	e.control(t, "xpay-app", map[string]string{"appid": appID, "offer_id": "1450000001", "app_key": "ak", "sandbox_app_key": "sak"})
	e.control(t, "xpay-item", map[string]any{"appid": appID, "product_id": "vip_30", "price": 990})
	e.control(t, "xpay-push-target", map[string]string{"appid": appID, "url": receiver.URL, "token": "tok",
		"encoding_aes_key": log.cfg.EncodingAESKey})
	login := e.control(t, "login-code", map[string]string{"appid": appID})
	sess, code := e.session(t, appID, secret, login["code"].(string))
	if code != 0 {
		t.Fatal(code)
	}
	keys := wechat.XPayKeys{OfferID: "1450000001", AppKey: "ak", SandboxAppKey: "sak"}
	params, err := wechat.SignVirtualPayment(wechat.VirtualPayment{ProductID: "vip_30", GoodsPrice: 990, BuyQuantity: 1,
		OutTradeNo: "KD20250301001"}, keys, sess["session_key"].(string))
	if err != nil {
		t.Fatal(err)
	}
	pay := map[string]any{"appid": appID, "mode": params.Mode, "signData": params.SignData, "paySig": params.PaySig, "signature": params.Signature}
	out := e.control(t, "xpay-pay", pay)
	order, _ := out["order"].(map[string]any)
	if num(t, out["errCode"]) != 0 || order == nil || num(t, order["status"]) != 4 || order["openid"] != login["openid"] {
		t.Fatalf("pay: %v", out)
	}
	if out := e.control(t, "xpay-pay", pay); num(t, out["errCode"]) != -15016 {
		t.Fatalf("paid twice: %v", out)
	}
	bad := map[string]any{}
	for k, v := range pay {
		bad[k] = v
	}
	bad["paySig"] = "00"
	if out := e.control(t, "xpay-pay", bad); num(t, out["errCode"]) != -15006 {
		t.Fatalf("bad paySig: %v", out)
	}

	if got := e.control(t, "xpay-duplicate", map[string]any{"appid": appID, "out_trade_no": "KD20250301001", "times": 2}); num(t, got["acked"]) != 2 || log.count() != 3 {
		t.Fatalf("duplicate: %v, %d pushes", got, log.count())
	}
	e.control(t, "xpay-drop", map[string]any{"appid": appID})
	pay2, _ := wechat.SignVirtualPayment(wechat.VirtualPayment{ProductID: "vip_30", GoodsPrice: 990, BuyQuantity: 1,
		OutTradeNo: "KD20250301002"}, keys, sess["session_key"].(string))
	e.control(t, "xpay-pay", map[string]any{"appid": appID, "params": pay2}) // the four fields as one object
	if orders := e.control(t, "xpay-orders", map[string]any{"appid": appID})["orders"].([]any); len(orders) != 2 {
		t.Fatalf("the payment given as params made no order: %v", orders)
	}
	if got := e.control(t, "xpay-deliver", map[string]any{"appid": appID}); num(t, got["acked"]) != 0 || log.count() != 3 {
		t.Fatalf("a dropped push was delivered: %v", got)
	}
	orders := e.control(t, "xpay-orders", map[string]any{"appid": appID})
	list, _ := orders["orders"].([]any)
	if len(list) != 2 || num(t, list[1].(map[string]any)["status"]) != 2 {
		t.Fatalf("orders %v", orders)
	}
	e.control(t, "xpay-settle-refunds", map[string]any{"appid": appID})
	e.control(t, "xpay-ios", map[string]any{"appid": appID, "on": true})
	e.control(t, "xpay-delay", map[string]any{"appid": appID, "count": 2})
	e.control(t, "xpay-bad-token", map[string]any{"appid": appID})
	e.control(t, "xpay-expire-session", map[string]any{"appid": appID})

	for _, c := range []struct {
		path string
		body any
	}{
		{"xpay-app", map[string]string{"appid": appID}},
		{"xpay-item", map[string]any{"appid": appID, "product_id": "x", "price": -1}},
		{"xpay-push-target", map[string]string{"appid": appID}},
		{"xpay-duplicate", map[string]any{"appid": appID, "out_trade_no": "KD-nope-0001", "times": 1}},
		{"xpay-duplicate", map[string]any{"appid": appID, "out_trade_no": "KD20250301001", "times": 0}},
		{"xpay-pay", "not an object"},
	} {
		if status, out := e.do(t, http.MethodPost, "/sandbox/"+c.path, c.body); status != http.StatusBadRequest {
			t.Errorf("%s %v: HTTP %d %v, want 400", c.path, c.body, status, out)
		}
	}
}

// query_user_balance checks both signatures on the raw bytes, as the
// reference's vector does: pay_sig (AppKey) and signature (session key).
func TestXPayQueryUserBalanceSignatures(t *testing.T) {
	e := newEnv(t)
	e.control(t, "xpay-app", map[string]string{"appid": appID, "offer_id": "1", "app_key": "12345"})
	login := e.control(t, "login-code", map[string]string{"appid": appID, "openid": "xxx"})
	sess, _ := e.session(t, appID, secret, login["code"].(string))
	key := sess["session_key"].(string)
	tok := e.plain(t)
	body := []byte(`{"openid": "xxx", "user_ip": "127.0.0.1", "env": 0}`)
	call := func(paySig, sig string) int {
		q := url.Values{"access_token": {tok}, "pay_sig": {paySig}, "signature": {sig}}
		resp, err := http.Post(e.base+"/xpay/query_user_balance?"+q.Encode(), "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			ErrCode int `json:"errcode"`
		}
		json.NewDecoder(resp.Body).Decode(&out)
		return out.ErrCode
	}
	paySig := wechat.XPayPaySig("12345", "/xpay/query_user_balance", body)
	if paySig != "c37809f27c6d7fd1837ad2500a04512b66b34fd793a39a385fade56dca89a4b5" {
		t.Fatalf("pay_sig %s", paySig)
	}
	if code := call(paySig, wechat.XPayUserSig(key, body)); code != 0 {
		t.Fatalf("good signatures: %d", code)
	}
	if code := call(paySig, wechat.XPayUserSig("9hAb/NEYUlkaMBEsmFgzig==", body)); code != wechat.ErrXPaySignature {
		t.Fatalf("another session key: %d", code)
	}
	if code := call(wechat.XPayPaySig("12345", "/xpay/query_order", body), wechat.XPayUserSig(key, body)); code != wechat.ErrXPaySignature {
		t.Fatalf("pay_sig of another uri: %d", code)
	}
	e.control(t, "xpay-expire-session", map[string]string{"appid": appID, "openid": "xxx"})
	if code := call(paySig, wechat.XPayUserSig(key, body)); code != wechat.ErrXPaySessionKey {
		t.Fatalf("expired session: %d", code)
	}
}
