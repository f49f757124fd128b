package wechatpay

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers WeChat signs its responses and notifications with.
const (
	HeaderTimestamp     = "Wechatpay-Timestamp"
	HeaderNonce         = "Wechatpay-Nonce"
	HeaderSignature     = "Wechatpay-Signature"
	HeaderSerial        = "Wechatpay-Serial"
	HeaderSignatureType = "Wechatpay-Signature-Type"
)

// MaxClockSkew is how far a signed timestamp may be from now: messages
// whose |now − timestamp| is MaxClockSkew or more are rejected.
const MaxClockSkew = 5 * time.Minute

// SignatureType is the only signature scheme WeChat Pay v3 uses here.
const SignatureType = "WECHATPAY2-SHA256-RSA2048"

// Verifier checks WeChat's signatures. It trusts platform certificates
// (Wechatpay-Serial = certificate serial), the WeChat Pay public key
// (Wechatpay-Serial = "PUB_KEY_ID_…"), or both during a migration. It is
// immutable and safe for concurrent use.
type Verifier struct {
	keys map[string]trustedKey // by upper-case serial or public key ID
}

type trustedKey struct {
	key       *rsa.PublicKey
	notBefore time.Time // zero for the public key, which does not expire
	notAfter  time.Time
}

// NewVerifier returns a Verifier trusting the RSA keys of certs and, if
// pubKeyID is not empty, pubKey under that ID. Certificates without an
// RSA key are ignored.
func NewVerifier(certs []*x509.Certificate, pubKeyID string, pubKey *rsa.PublicKey) *Verifier {
	v := &Verifier{keys: make(map[string]trustedKey)}
	for _, cert := range certs {
		if key, ok := cert.PublicKey.(*rsa.PublicKey); ok {
			v.keys[CertSerial(cert)] = trustedKey{key: key, notBefore: cert.NotBefore, notAfter: cert.NotAfter}
		}
	}
	if pubKeyID != "" && pubKey != nil {
		v.keys[strings.ToUpper(pubKeyID)] = trustedKey{key: pubKey}
	}
	return v
}

// Verify checks that h carries WeChat's signature of body, made within
// MaxClockSkew of now by a key v trusts. The error wraps ErrBadSignature,
// ErrStaleTimestamp or ErrUnknownSerial.
func (v *Verifier) Verify(h http.Header, body []byte, now time.Time) error {
	if v == nil {
		return errors.New("no verifier configured")
	}
	ts, nonce, sig, serial := h.Get(HeaderTimestamp), h.Get(HeaderNonce), h.Get(HeaderSignature), h.Get(HeaderSerial)
	if ts == "" || nonce == "" || sig == "" || serial == "" {
		return fmt.Errorf("%w: missing Wechatpay-* headers", ErrBadSignature)
	}
	if t := h.Get(HeaderSignatureType); t != "" && t != SignatureType {
		return fmt.Errorf("%w: signature type %.40q", ErrBadSignature, t)
	}
	if err := checkTimestamp(ts, now); err != nil {
		return err
	}
	key, err := v.key(serial, now)
	if err != nil {
		return err
	}
	return verifySHA256(key, ts+"\n"+nonce+"\n"+string(body)+"\n", sig)
}

// Trusts reports whether v holds a key under serial (valid or not).
func (v *Verifier) Trusts(serial string) bool {
	if v == nil {
		return false
	}
	_, ok := v.keys[strings.ToUpper(serial)]
	return ok
}

func (v *Verifier) key(serial string, now time.Time) (*rsa.PublicKey, error) {
	k, ok := v.keys[strings.ToUpper(serial)]
	if !ok {
		return nil, fmt.Errorf("%w: %.64q", ErrUnknownSerial, serial)
	}
	if !k.notAfter.IsZero() && (now.Before(k.notBefore) || now.After(k.notAfter)) {
		return nil, fmt.Errorf("%w: certificate %s is not valid at %s", ErrUnknownSerial, serial, now.Format(time.RFC3339))
	}
	return k.key, nil
}

// checkTimestamp enforces |now − ts| < MaxClockSkew.
func checkTimestamp(ts string, now time.Time) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: malformed timestamp %.20q", ErrStaleTimestamp, ts)
	}
	skew := now.Sub(time.Unix(sec, 0)).Abs()
	if skew >= MaxClockSkew {
		return fmt.Errorf("%w: %s off", ErrStaleTimestamp, skew.Round(time.Second))
	}
	return nil
}

func verifySHA256(key *rsa.PublicKey, message, signature string) error {
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return fmt.Errorf("%w: signature is not base64", ErrBadSignature)
	}
	digest := sha256.Sum256([]byte(message))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig); err != nil {
		return fmt.Errorf("%w: signature does not match", ErrBadSignature)
	}
	return nil
}
