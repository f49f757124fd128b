package account

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"github.com/kaidian/kaidian/internal/platform/httpx"
	"net/http"
)

// CSRFCookie is the readable cookie a console echoes in X-CSRF-Token.
const CSRFCookie = "kaidian_csrf"

// SessionToken returns the admin session token of r: a Bearer header, or
// the session cookie.
func SessionToken(r *http.Request) string {
	if tok, ok := httpx.BearerToken(r); ok {
		return tok
	}
	if c, err := r.Cookie(CookieName); err == nil {
		return c.Value
	}
	return ""
}

// CSRFToken derives the CSRF token of a session: bound to it, so a token
// from one session is worthless in another.
func CSRFToken(sessionToken string) string {
	if sessionToken == "" {
		return ""
	}
	mac := hmac.New(sha256.New, []byte(sessionToken))
	mac.Write([]byte("kaidian csrf"))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// CheckCSRF reports whether a cookie-authenticated request that changes
// state carries the right X-CSRF-Token. Bearer requests and safe methods
// need none (a browser cannot forge an Authorization header cross-site).
func CheckCSRF(r *http.Request) bool {
	if _, ok := httpx.BearerToken(r); ok {
		return true
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	c, err := r.Cookie(CookieName)
	if err != nil {
		return true // no cookie session: the guard rejects it anyway
	}
	want := CSRFToken(c.Value)
	return hmac.Equal([]byte(r.Header.Get("X-CSRF-Token")), []byte(want))
}
