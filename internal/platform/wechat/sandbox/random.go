package sandbox

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

const (
	alphabet     = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	codeLength   = 32
	tokenLength  = 96
	openIDLength = 28 // "o" + 27 characters, like real openids
)

// randomString returns n random characters of alphabet (64 symbols, so
// byte%64 is uniform).
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[b[i]%64]
	}
	return string(b)
}

func randomHex(nbytes int) string {
	b := make([]byte, nbytes)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// sessionKey is a random 16-byte key in base64, as WeChat sends it.
func sessionKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// defaultOpenID is the stable openid of an app's default demo user.
func defaultOpenID(appid string) string {
	sum := sha256.Sum256([]byte("kaidian-sandbox-openid:" + appid))
	b := make([]byte, openIDLength-1)
	for i := range b {
		b[i] = alphabet[sum[i]%64]
	}
	return "o" + string(b)
}
