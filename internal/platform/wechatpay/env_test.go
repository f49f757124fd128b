package wechatpay_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/wechatpay"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

const (
	testMchID  = "1900000109"
	testAppID  = "wxd678efh567hg6787"
	testOpenID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
	prefix     = "/sandbox/wechatpay" // the sandbox is mounted here, as in the demo
)

// env is a sandbox over HTTP, a client configured with the merchant
// credentials it issued, and a notification receiver.
type env struct {
	sb       *paysandbox.Sandbox
	creds    paysandbox.Credentials
	merchant wechatpay.Merchant
	verifier *wechatpay.Verifier
	client   *wechatpay.Client
	base     string
	notify   *receiver
}

func newEnv(t *testing.T, opts ...paysandbox.Option) *env {
	t.Helper()
	sb, err := paysandbox.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	creds, err := sb.NewMerchant(testMchID, testAppID)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", http.StripPrefix(prefix, sb))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e := &env{sb: sb, creds: creds, base: srv.URL + prefix}
	e.merchant = merchantFrom(t, creds)
	e.verifier = verifierFor(t, creds.Platform, true, true)
	e.client = wechatpay.NewClient(e.base, e.merchant, e.verifier, srv.Client())
	e.notify = newReceiver(t, e.verifier, e.merchant.APIv3Key)
	return e
}

func merchantFrom(t *testing.T, c paysandbox.Credentials) wechatpay.Merchant {
	t.Helper()
	key, err := wechatpay.ParsePrivateKey(c.PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	m := wechatpay.Merchant{MchID: c.MchID, AppID: c.AppID, CertSerial: c.CertSerial, PrivateKey: key, APIv3Key: []byte(c.APIv3Key)}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m
}

// verifierFor trusts the platform certificate and/or the public key.
func verifierFor(t *testing.T, p paysandbox.Platform, cert, pub bool) *wechatpay.Verifier {
	t.Helper()
	var certs []*x509.Certificate
	if cert {
		c, err := wechatpay.ParseCertificate(p.CertificatePEM)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, c)
	}
	if !pub {
		return wechatpay.NewVerifier(certs, "", nil)
	}
	key, err := wechatpay.ParsePublicKey(p.PublicKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return wechatpay.NewVerifier(certs, p.PublicKeyID, key)
}

// prepay places an order with a notify_url pointing at the receiver.
func (e *env) prepay(t *testing.T, outTradeNo string, total int64) string {
	t.Helper()
	id, err := e.client.Prepay(context.Background(), wechatpay.PrepayRequest{
		Description: "开店测试-商品", OutTradeNo: outTradeNo, NotifyURL: e.notify.url(),
		Total: total, OpenID: testOpenID, Attach: "shop=1",
	})
	if err != nil {
		t.Fatalf("Prepay(%s): %v", outTradeNo, err)
	}
	return id
}

func (e *env) pay(t *testing.T, outTradeNo string) paysandbox.Delivery {
	t.Helper()
	d, err := e.sb.Pay(context.Background(), testMchID, outTradeNo)
	if err != nil {
		t.Fatalf("Pay(%s): %v", outTradeNo, err)
	}
	return d
}

func (e *env) query(t *testing.T, outTradeNo string) wechatpay.Transaction {
	t.Helper()
	tx, err := e.client.QueryOrder(context.Background(), outTradeNo)
	if err != nil {
		t.Fatalf("QueryOrder(%s): %v", outTradeNo, err)
	}
	return tx
}

// received is one notification request as the receiver saw it.
type received struct {
	n      wechatpay.Notification
	err    error
	header http.Header
	body   []byte
}

// receiver is a merchant notification endpoint: it parses with
// ParseNotification, answers with WriteNotificationReply, and processes
// each event id once.
type receiver struct {
	srv      *httptest.Server
	verifier *wechatpay.Verifier
	key      []byte

	mu        sync.Mutex
	got       []received
	failNext  int             // answer 500 to this many valid notifications
	processed map[string]bool // event ids acted upon
	actions   int
}

func newReceiver(t *testing.T, v *wechatpay.Verifier, key []byte) *receiver {
	rc := &receiver{verifier: v, key: key, processed: make(map[string]bool)}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) url() string { return rc.srv.URL + "/notify/pay" }

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	n, err := wechatpay.ParseNotification(r, rc.verifier, rc.key, time.Now())
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.got = append(rc.got, received{n: n, err: err, header: r.Header.Clone(), body: body})
	if err == nil && rc.failNext > 0 {
		rc.failNext--
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	if err == nil && !rc.processed[n.ID] {
		rc.processed[n.ID] = true
		rc.actions++
	}
	wechatpay.WriteNotificationReply(w, err)
}

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func (rc *receiver) last(t *testing.T) received {
	t.Helper()
	got := rc.all()
	if len(got) == 0 {
		t.Fatal("no notification received")
	}
	return got[len(got)-1]
}

func (rc *receiver) actionCount() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.actions
}
