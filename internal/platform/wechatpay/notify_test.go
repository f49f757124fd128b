package wechatpay_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/wechatpay"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

func TestNotificationValid(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.prepay(t, "KD-NOTIFY-1", 4200)
	d := e.pay(t, "KD-NOTIFY-1")
	got := e.notify.last(t)
	if got.err != nil {
		t.Fatalf("ParseNotification: %v", got.err)
	}
	n := got.n
	if n.ID != d.EventID || n.EventType != "TRANSACTION.SUCCESS" || n.ResourceType != "encrypt-resource" || n.OriginalType != "transaction" {
		t.Fatalf("notification = %+v", n)
	}
	tx, err := n.Transaction()
	if err != nil {
		t.Fatal(err)
	}
	if tx.AppID != testAppID || tx.MchID != testMchID || tx.OutTradeNo != "KD-NOTIFY-1" || tx.TradeState != "SUCCESS" ||
		tx.TransactionID == "" || tx.Payer.OpenID != testOpenID || tx.Amount.Total != 4200 ||
		tx.Amount.PayerTotal != 4200 || tx.Amount.Currency != "CNY" || tx.Attach != "shop=1" {
		t.Fatalf("transaction = %+v", tx)
	}
	if _, err := time.Parse(time.RFC3339, tx.SuccessTime); err != nil {
		t.Fatalf("success_time %q: %v", tx.SuccessTime, err)
	}
	if _, err := n.RefundNotice(); err == nil {
		t.Fatal("a payment notification decoded as a refund")
	}
	if e.notify.actionCount() != 1 {
		t.Fatalf("actions = %d", e.notify.actionCount())
	}
}

func TestNotificationTampering(t *testing.T) {
	t.Parallel()
	cases := []struct {
		mode paysandbox.Tamper
		want error
	}{
		{paysandbox.TamperBadSignature, wechatpay.ErrBadSignature},
		{paysandbox.TamperProbeSignature, wechatpay.ErrBadSignature},
		{paysandbox.TamperStaleTimestamp, wechatpay.ErrStaleTimestamp},
		{paysandbox.TamperUnknownSerial, wechatpay.ErrUnknownSerial},
		{paysandbox.TamperCorruptCiphertext, wechatpay.ErrBadCiphertext},
		{paysandbox.TamperWrongAlgorithm, wechatpay.ErrBadAlgorithm},
	}
	for _, mode := range []paysandbox.KeyMode{paysandbox.KeyModeCertificate, paysandbox.KeyModePublicKey} {
		e := newEnv(t, paysandbox.WithKeyMode(mode))
		for i, c := range cases {
			no := "KD-TAMPER-" + strconv.Itoa(i)
			e.prepay(t, no, 100)
			if err := e.sb.TamperNextNotification(c.mode); err != nil {
				t.Fatal(err)
			}
			d := e.pay(t, no)
			if d.Delivered || len(d.Attempts) != 1 || d.Attempts[0].Status != http.StatusBadRequest {
				t.Errorf("%s/%s: delivery = %+v, want one 400", mode, c.mode, d)
			}
			got := e.notify.last(t)
			if !errors.Is(got.err, c.want) || !wechatpay.IsRejected(got.err) {
				t.Errorf("%s/%s: err = %v, want %v", mode, c.mode, got.err, c.want)
			}
			if e.notify.actionCount() != i {
				t.Fatalf("%s/%s: a forged notification was acted upon", mode, c.mode)
			}
			// The genuine notification still gets through afterwards.
			if d, err := e.sb.Renotify(ctx, testMchID, no); err != nil || !d.Delivered {
				t.Fatalf("%s/%s: Renotify = %+v, %v", mode, c.mode, d, err)
			}
		}
	}
}

func TestNotificationDuplicate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.prepay(t, "KD-DUP-1", 100)
	if err := e.sb.TamperNextNotification(paysandbox.TamperDuplicate); err != nil {
		t.Fatal(err)
	}
	d := e.pay(t, "KD-DUP-1")
	got := e.notify.all()
	if len(d.Attempts) != 2 || len(got) != 2 || d.Attempts[0].Status != 204 || d.Attempts[1].Status != 204 {
		t.Fatalf("delivery = %+v, want two 2xx", d)
	}
	if got[0].err != nil || got[1].err != nil || got[0].n.ID != got[1].n.ID {
		t.Fatalf("duplicates: %+v / %+v", got[0], got[1])
	}
	if got[0].header.Get(wechatpay.HeaderNonce) == got[1].header.Get(wechatpay.HeaderNonce) {
		t.Fatal("a redelivery reused the signature nonce")
	}
	if e.notify.actionCount() != 1 {
		t.Fatalf("actions = %d, want 1", e.notify.actionCount())
	}
}

func TestNotificationDropped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.prepay(t, "KD-DROP-1", 100)
	e.sb.DropNextNotification()
	d := e.pay(t, "KD-DROP-1")
	if !d.Dropped || d.Delivered || len(d.Attempts) != 0 || len(e.notify.all()) != 0 {
		t.Fatalf("delivery = %+v, received %d", d, len(e.notify.all()))
	}
	if got := e.query(t, "KD-DROP-1").TradeState; got != wechatpay.TradeStateSuccess {
		t.Fatalf("the server should discover the payment by querying; trade_state = %s", got)
	}
}

func TestNotificationRedelivery(t *testing.T) {
	t.Parallel()
	e := newEnv(t, paysandbox.WithRetrySchedule(time.Millisecond, 2*time.Millisecond, 3*time.Millisecond))
	e.prepay(t, "KD-RETRY-1", 100)
	e.notify.mu.Lock()
	e.notify.failNext = 2
	e.notify.mu.Unlock()
	d := e.pay(t, "KD-RETRY-1")
	if !d.Delivered || len(d.Attempts) != 3 || d.Attempts[0].Status != 500 || d.Attempts[2].Status != 204 {
		t.Fatalf("delivery = %+v", d)
	}
	got := e.notify.all()
	if got[0].n.ID != got[2].n.ID || !bytes.Equal(got[0].body, got[2].body) {
		t.Fatal("a redelivery changed the event")
	}

	// Without a 2xx the sandbox gives up after the schedule.
	e.sb.SetRetrySchedule(time.Millisecond)
	e.prepay(t, "KD-RETRY-2", 100)
	e.notify.mu.Lock()
	e.notify.failNext = 5
	e.notify.mu.Unlock()
	if d := e.pay(t, "KD-RETRY-2"); d.Delivered || len(d.Attempts) != 2 {
		t.Fatalf("delivery = %+v, want 2 failed attempts", d)
	}
}

// captured returns the raw request of a genuine notification.
func captured(t *testing.T) (*env, received) {
	t.Helper()
	e := newEnv(t)
	e.prepay(t, "KD-WINDOW-1", 100)
	e.pay(t, "KD-WINDOW-1")
	return e, e.notify.last(t)
}

func replay(got received) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/notify/pay", bytes.NewReader(got.body))
	r.Header = got.header.Clone()
	return r
}

func TestNotificationWindow(t *testing.T) {
	t.Parallel()
	e, got := captured(t)
	sec, _ := strconv.ParseInt(got.header.Get(wechatpay.HeaderTimestamp), 10, 64)
	signed := time.Unix(sec, 0)
	for _, c := range []struct {
		now  time.Time
		fail bool
	}{
		{signed.Add(4*time.Minute + 59*time.Second), false},
		{signed.Add(-4*time.Minute - 59*time.Second), false},
		{signed.Add(5 * time.Minute), true},
		{signed.Add(-5 * time.Minute), true},
		{signed.Add(24 * time.Hour), true},
	} {
		_, err := wechatpay.ParseNotification(replay(got), e.verifier, e.merchant.APIv3Key, c.now)
		if stale := errors.Is(err, wechatpay.ErrStaleTimestamp); stale != c.fail || (!c.fail && err != nil) {
			t.Errorf("now = signed%+v: err = %v, want stale=%v", c.now.Sub(signed), err, c.fail)
		}
	}
	e.client.SetClock(func() time.Time { return signed.Add(10 * time.Minute) })
	if _, err := e.client.ParseNotification(replay(got)); !errors.Is(err, wechatpay.ErrStaleTimestamp) {
		t.Fatalf("Client.ParseNotification with its clock 10 min ahead: %v", err)
	}
}

func TestNotificationTamperedInTransit(t *testing.T) {
	t.Parallel()
	e, got := captured(t)
	now := time.Now()
	parse := func(mutate func(*received)) error {
		c := received{header: got.header.Clone(), body: bytes.Clone(got.body)}
		mutate(&c)
		_, err := wechatpay.ParseNotification(replay(c), e.verifier, e.merchant.APIv3Key, now)
		return err
	}
	cases := []struct {
		name   string
		mutate func(*received)
		want   error
	}{
		{"body changed", func(c *received) { c.body = bytes.Replace(c.body, []byte("TRANSACTION"), []byte("TRANSACTIOM"), 1) }, wechatpay.ErrBadSignature},
		{"body re-encoded", func(c *received) { c.body = bytes.TrimSuffix(c.body, []byte("\n")) }, wechatpay.ErrBadSignature},
		{"nonce changed", func(c *received) { c.header.Set(wechatpay.HeaderNonce, "X"+c.header.Get(wechatpay.HeaderNonce)) }, wechatpay.ErrBadSignature},
		{"no signature", func(c *received) { c.header.Del(wechatpay.HeaderSignature) }, wechatpay.ErrBadSignature},
		{"other signature type", func(c *received) { c.header.Set(wechatpay.HeaderSignatureType, "WECHATPAY2-SM2-WITH-SM3") }, wechatpay.ErrBadSignature},
		{"malformed timestamp", func(c *received) { c.header.Set(wechatpay.HeaderTimestamp, "soon") }, wechatpay.ErrStaleTimestamp},
		{"serial lower-cased", func(c *received) {
			c.header.Set(wechatpay.HeaderSerial, strings.ToLower(c.header.Get(wechatpay.HeaderSerial)))
		}, nil},
	}
	for _, c := range cases {
		if err := parse(c.mutate); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestNotificationWrongKeys(t *testing.T) {
	t.Parallel()
	e, got := captured(t)
	wrongKey := bytes.Repeat([]byte("k"), 32)
	if _, err := wechatpay.ParseNotification(replay(got), e.verifier, wrongKey, time.Now()); !errors.Is(err, wechatpay.ErrBadCiphertext) {
		t.Fatalf("wrong APIv3 key: %v, want ErrBadCiphertext", err)
	}
	_, err := wechatpay.ParseNotification(replay(got), e.verifier, []byte("short"), time.Now())
	if err == nil || wechatpay.IsRejected(err) {
		t.Fatalf("short APIv3 key: %v, want a configuration error", err)
	}
	stranger := wechatpay.NewVerifier(nil, "PUB_KEY_ID_OTHER", &e.merchant.PrivateKey.PublicKey)
	if _, err := wechatpay.ParseNotification(replay(got), stranger, e.merchant.APIv3Key, time.Now()); !errors.Is(err, wechatpay.ErrUnknownSerial) {
		t.Fatalf("verifier without the platform key: %v", err)
	}
}

func TestNotificationLimits(t *testing.T) {
	t.Parallel()
	e, got := captured(t)
	huge := received{header: got.header, body: append(bytes.Repeat([]byte(" "), 1<<20), got.body...)}
	if _, err := wechatpay.ParseNotification(replay(huge), e.verifier, e.merchant.APIv3Key, time.Now()); !errors.Is(err, wechatpay.ErrMalformed) {
		t.Fatalf("2 MiB body: %v, want ErrMalformed", err)
	}
	r := replay(got)
	r.Method = http.MethodGet
	if _, err := wechatpay.ParseNotification(r, e.verifier, e.merchant.APIv3Key, time.Now()); !errors.Is(err, wechatpay.ErrMalformed) {
		t.Fatalf("GET: %v, want ErrMalformed", err)
	}
}

func TestWriteNotificationReply(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err    error
		status int
	}{
		{nil, http.StatusNoContent},
		{errors.Join(errors.New("wrapped"), wechatpay.ErrBadSignature), http.StatusBadRequest},
		{errors.New("database down"), http.StatusInternalServerError},
	} {
		w := httptest.NewRecorder()
		wechatpay.WriteNotificationReply(w, c.err)
		if w.Code != c.status {
			t.Errorf("%v: HTTP %d, want %d", c.err, w.Code, c.status)
		}
		if c.err != nil && !strings.Contains(w.Body.String(), `"code":"FAIL"`) {
			t.Errorf("%v: body %s", c.err, w.Body)
		}
	}
}
