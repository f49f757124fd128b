package audit

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
	"github.com/kaidian/kaidian/internal/platform/mask"
)

// Redacted replaces every secret in a recorded body.
const Redacted = "[redacted]"

// secretKeys are the JSON keys whose values never reach the log: anything
// named like a password, secret, private key, token, one-time or recovery
// code, a login's second-step challenge; bare "code" holding digits (SMS
// and TOTP codes) is handled by isSecret.
var secretKeys = []string{"password", "secret", "private", "token", "otp", "recovery", "api_v3", "apikey", "api_key",
	"app_key", "appkey", "aes_key", "mch_key", "access_key", "totp", "challenge"}

// isPhoneKey names values kept masked: the log says whose record changed,
// it is not another copy of their phone number.
func isPhoneKey(k string) bool {
	k = strings.ToLower(k)
	return strings.Contains(k, "phone") || strings.Contains(k, "mobile")
}

// isSecret says whether the value x of key k is a secret: a string (or a
// list) under a secret-looking key — not a flag such as totp_enabled —, or
// under bare "code" a one-time code of digits (an error's or a coupon's
// code stays readable).
func isSecret(k string, x any) bool {
	switch v := x.(type) {
	case string:
		if strings.EqualFold(k, "code") {
			return oneTimeCode(v)
		}
		return v != "" && isSecretKey(k)
	case []any:
		return isSecretKey(k)
	}
	return false
}

func oneTimeCode(s string) bool {
	if len(s) < 4 || len(s) > 8 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	if k == "key" {
		return true
	}
	for _, s := range secretKeys {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// Redact returns body with the values of secret keys replaced, at any
// depth. A body that is not JSON is described, not kept (it may be cut
// or hold anything).
func Redact(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return ""
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "[not JSON or cut: " + itoa(len(body)) + " bytes]"
	}
	out, err := json.Marshal(redactValue(v))
	if err != nil {
		return "[unreadable]"
	}
	return string(out)
}

func redactValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if isSecret(k, x) {
				t[k] = Redacted
			} else if p, ok := x.(string); ok && isPhoneKey(k) {
				t[k] = mask.Phone(p)
			} else {
				t[k] = redactValue(x)
			}
		}
	case []any:
		for i, x := range t {
			t[i] = redactValue(x)
		}
	}
	return v
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// FromRequest turns what an audited request did into an entry: the caller
// the staff guard found (or, for a login, the username it named), the
// client's address as addr gives it, the route, and the bodies redacted.
func FromRequest(r *http.Request, rec httpx.AuditRecord, addr string) Entry {
	e := Entry{
		Addr:      addr,
		Action:    rec.Route.Method + " " + rec.Route.Path,
		Target:    r.URL.Path,
		Status:    rec.Status,
		Request:   Redact(rec.Request),
		Before:    Redact(rec.Before),
		After:     Redact(rec.After),
		RequestID: rec.RequestID,
	}
	if rec.Route.Reveals && rec.Status < 300 {
		e.After = "[personal data shown]"
	}
	if rec.Route.Produces != "" {
		e.After = "[" + rec.Route.Produces + "]"
		if q := r.URL.RawQuery; q != "" {
			e.Target += "?" + q
		}
	}
	if st, ok := auth.StaffFrom(r.Context()); ok {
		e.ShopID, e.ActorID, e.Actor, e.Role = st.ShopID, st.AccountID, st.Username, string(st.Role)
		if st.Agency {
			e.Role = "agency:" + e.Role
		}
		return e
	}
	var named struct {
		Username string `json:"username"`
	}
	if json.Unmarshal(rec.Request, &named) == nil && len(named.Username) <= 64 {
		e.Actor = named.Username
	}
	if e.Actor == "" {
		// A login's second step names nobody (a challenge and a code): the
		// session it starts does, in its answer's account.
		var started struct {
			Account struct {
				ID       int64  `json:"id"`
				ShopID   int64  `json:"shop_id"`
				Username string `json:"username"`
				Role     string `json:"role"`
			} `json:"account"`
		}
		if rec.Status < 300 && json.Unmarshal(rec.After, &started) == nil && len(started.Account.Username) <= 64 {
			a := started.Account
			e.ShopID, e.ActorID, e.Actor, e.Role = a.ShopID, a.ID, a.Username, a.Role
		}
	}
	return e
}
