package paysandbox

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
)

// probePrefix starts the deliberately invalid signatures WeChat sends to
// check that merchants verify.
const probePrefix = "WECHATPAY/SIGNTEST/"

func signSHA256(key *rsa.PrivateKey, message string) string {
	digest := sha256.Sum256([]byte(message))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		panic("paysandbox: sign: " + err.Error()) // cannot happen with our own 2048-bit keys
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func verifySHA256(key *rsa.PublicKey, message, signature string) bool {
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return false
	}
	digest := sha256.Sum256([]byte(message))
	return rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig) == nil
}

// signatureHeaders signs body as WeChat signs responses and notifications
// (TIMESTAMP\nNONCE\nBODY\n with the platform key of mode), spoiled as
// tamper asks.
func (s *Sandbox) signatureHeaders(body []byte, mode KeyMode, tamper Tamper) map[string]string {
	key, serial := s.keys.signer(mode)
	now := s.now()
	if tamper == TamperStaleTimestamp {
		now = now.Add(-2 * clockSkew)
	}
	ts, nonce := strconv.FormatInt(now.Unix(), 10), randomString(32)
	message := ts + "\n" + nonce + "\n" + string(body) + "\n"
	var sig string
	switch tamper {
	case TamperBadSignature: // a real signature, of something else
		sig = signSHA256(key, message+"tampered")
	case TamperProbeSignature:
		sig = probePrefix + base64.StdEncoding.EncodeToString([]byte(randomString(64)))
	default:
		sig = signSHA256(key, message)
	}
	if tamper == TamperUnknownSerial {
		serial = randomHexUpper(20)
	}
	return map[string]string{
		"Wechatpay-Timestamp":      ts,
		"Wechatpay-Nonce":          nonce,
		"Wechatpay-Signature":      sig,
		"Wechatpay-Serial":         serial,
		"Wechatpay-Signature-Type": authScheme,
	}
}

func randomHexUpper(nbytes int) string { return strings.ToUpper(randomHex(nbytes)) }
