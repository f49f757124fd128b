package wechatpay

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
)

const (
	nonceAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	nonceLength   = 32
)

// newNonce returns a random string of nonceLength upper-case letters and
// digits.
func newNonce() string {
	b := make([]byte, nonceLength)
	for i := range b {
		b[i] = nonceAlphabet[randIndex(len(nonceAlphabet))]
	}
	return string(b)
}

// randIndex returns a uniform random index below n (n ≤ 256), rejecting
// biased bytes.
func randIndex(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		rand.Read(b[:])
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// signSHA256 signs message with SHA256withRSA (PKCS#1 v1.5) and returns the
// signature in base64. Its error never describes the key.
func signSHA256(key *rsa.PrivateKey, message string) (string, error) {
	if key == nil {
		return "", errors.New("merchant private key is missing")
	}
	digest := sha256.Sum256([]byte(message))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", errors.New("signing with the merchant key failed")
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// authorization returns the Authorization header for a request: the
// signature of METHOD\nURI\nTIMESTAMP\nNONCE\nBODY\n, where uri is the
// path and query WeChat will see and body the exact bytes sent.
func (c *Client) authorization(method, uri string, body []byte) (string, error) {
	ts := strconv.FormatInt(c.now().Unix(), 10)
	nonce := newNonce()
	sig, err := signSHA256(c.m.PrivateKey, method+"\n"+uri+"\n"+ts+"\n"+nonce+"\n"+string(body)+"\n")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(`%s mchid="%s",nonce_str="%s",timestamp="%s",serial_no="%s",signature="%s"`,
		SignatureType, c.m.MchID, nonce, ts, c.m.CertSerial, sig), nil
}
