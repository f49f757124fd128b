package wechatpay_test

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/wechatpay"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

// TestErrorsNeverLeakSecrets provokes every kind of error and checks that
// neither the APIv3 key nor any piece of the private key shows up in the
// messages or in the printed Merchant and Client.
func TestErrorsNeverLeakSecrets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.prepay(t, "KD-SECRET-1", 100)
	e.pay(t, "KD-SECRET-1")
	got := e.notify.last(t)

	var errs []error
	collect := func(_ any, err error) {
		if err == nil {
			t.Fatalf("expected an error (collected %d so far)", len(errs))
		}
		errs = append(errs, err)
	}
	// Key parsing with the real key's bytes damaged.
	damaged := strings.Replace(e.creds.PrivateKeyPEM, "A", "B", 5)
	collect(wechatpay.ParsePrivateKey(damaged))
	collect(wechatpay.ParsePrivateKey(strings.Replace(e.creds.PrivateKeyPEM, "PRIVATE KEY", "CERTIFICATE", 2)))
	collect(wechatpay.ParseCertificate(e.creds.PrivateKeyPEM))
	collect(wechatpay.ParsePublicKey(e.creds.PrivateKeyPEM))
	// Notifications with a wrong key, a key of the wrong size, a tampered body.
	collect(wechatpay.ParseNotification(replay(got), e.verifier, append([]byte(nil), e.merchant.APIv3Key[:31]...), time.Now()))
	wrong := bytes.Clone(e.merchant.APIv3Key)
	wrong[0] ^= 1
	collect(wechatpay.ParseNotification(replay(got), e.verifier, wrong, time.Now()))
	collect(wechatpay.ParseNotification(replay(received{header: got.header, body: append(got.body, ' ')}), e.verifier, e.merchant.APIv3Key, time.Now()))
	// API errors, signature errors, transport errors, validation errors.
	collect(e.client.QueryOrder(ctx, "KD-NO-SUCH-1"))
	if err := e.sb.TamperNextResponse(paysandbox.TamperBadSignature); err != nil {
		t.Fatal(err)
	}
	collect(e.client.QueryOrder(ctx, "KD-SECRET-1"))
	_, refused := wechatpay.NewClient("http://127.0.0.1:1", e.merchant, e.verifier, nil).QueryOrder(ctx, "KD-SECRET-1")
	if !wechatpay.IsRetryable(refused) {
		t.Fatalf("refused connection not retryable: %v", refused)
	}
	collect(nil, refused)
	collect(e.client.Prepay(ctx, wechatpay.PrepayRequest{OutTradeNo: "x"}))
	noKey := e.merchant
	noKey.PrivateKey = nil
	collect(wechatpay.NewClient(e.base, noKey, e.verifier, nil).QueryOrder(ctx, "KD-SECRET-1"))
	collect(nil, noKey.Validate())
	short := e.merchant
	short.APIv3Key = short.APIv3Key[:20]
	collect(nil, short.Validate())

	printed := fmt.Sprintf("%v|%+v|%#v|%s|%v|%+v", e.merchant, e.merchant, e.merchant, e.merchant, e.client, e.client)
	texts := []string{printed}
	for _, err := range errs {
		texts = append(texts, err.Error(), fmt.Sprintf("%+v", err))
	}
	for _, secret := range secretFragments(t, e) {
		for _, text := range texts {
			if strings.Contains(text, secret) {
				t.Fatalf("secret fragment %q appears in %q", secret, text)
			}
		}
	}
}

// secretFragments are pieces of the APIv3 key and the private key, in the
// forms they could leak in.
func secretFragments(t *testing.T, e *env) []string {
	t.Helper()
	key := e.merchant.PrivateKey
	frags := []string{
		e.creds.APIv3Key,
		e.creds.APIv3Key[:12],
		fmt.Sprintf("%x", e.merchant.APIv3Key)[:16],
		key.D.String()[:16],
		key.D.Text(16)[:16],
		key.Primes[0].String()[:16],
		fmt.Sprint(e.merchant.APIv3Key)[:24],
	}
	block, _ := pem.Decode([]byte(e.creds.PrivateKeyPEM))
	b64 := base64.StdEncoding.EncodeToString(block.Bytes)
	for i := 64; i+24 <= len(b64); i += 200 { // skip the algorithm header shared by all keys
		frags = append(frags, b64[i:i+24])
	}
	der := x509.MarshalPKCS1PrivateKey(key)
	frags = append(frags, fmt.Sprintf("%x", der[40:56]), fmt.Sprint(der[40:56]))
	return frags
}
