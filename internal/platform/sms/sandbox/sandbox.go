// Package sandbox is a fake of Aliyun's and Tencent Cloud's SendSms for
// tests and the demo: it checks each request's signature (ACS3-HMAC-SHA256
// or TC3-HMAC-SHA256), the clock skew and, for Aliyun, the nonce; keeps a
// log of the messages sent (tests read the codes from it); and can be told
// to refuse the next sends with the providers' real error codes.
package sandbox

import (
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kaidian/kaidian/internal/platform/sms"
)

// The sandbox's accounts.
const (
	AliyunKeyID      = "LTAIsandboxKeyId"
	AliyunSecret     = "sandbox-aliyun-secret"
	TencentSecretID  = "AKIDsandboxSecretId"
	TencentSecretKey = "sandbox-tencent-secret"
	TencentSdkAppID  = "1400000000"
)

// Failures the sandbox can be told to answer, mapped to each provider's code.
const (
	Throttled     = "throttled"
	InvalidNumber = "invalid_number"
	BadTemplate   = "bad_template"
	SystemError   = "system_error"
)

var codes = map[string][2]string{ // failure → {Aliyun, Tencent}
	Throttled:     {"isv.BUSINESS_LIMIT_CONTROL", "LimitExceeded.PhoneNumberThirtySecondLimit"},
	InvalidNumber: {"isv.MOBILE_NUMBER_ILLEGAL", "InvalidParameterValue.IncorrectPhoneNumber"},
	BadTemplate:   {"isv.SMS_TEMPLATE_ILLEGAL", "FailedOperation.TemplateIncorrectOrUnapproved"},
	SystemError:   {"isp.SYSTEM_ERROR", "InternalError.Timeout"},
}

// Sent is one message the sandbox accepted.
type Sent struct {
	Provider, Phone, SignName, Template string
	Params                              []sms.Param // Tencent's have no names
	At                                  time.Time
}

// Sandbox is the fake; it is an http.Handler for both providers.
type Sandbox struct {
	mu       sync.Mutex
	now      func() time.Time
	sent     []Sent
	fails    []string
	nonces   map[string]bool
	refusals int // requests refused for their signature, skew or nonce
	seq      int
}

// New returns an empty sandbox.
func New() *Sandbox { return &Sandbox{now: time.Now, nonces: map[string]bool{}} }

// SetClock sets the sandbox's clock (for skew checks).
func (s *Sandbox) SetClock(now func() time.Time) { s.mu.Lock(); s.now = now; s.mu.Unlock() }

// FailNext makes the next sends fail, one failure each, in order.
func (s *Sandbox) FailNext(failures ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails = append(s.fails, failures...)
}

// Sent returns the messages sent so far, oldest first.
func (s *Sandbox) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// Refusals counts requests refused for their signature, clock or nonce.
func (s *Sandbox) Refusals() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refusals
}

// LastCode returns the "code" parameter (Tencent: the first) of the last
// message sent to phone, or "".
func (s *Sandbox) LastCode(phone string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.sent) - 1; i >= 0; i-- {
		m := s.sent[i]
		if m.Phone != phone || len(m.Params) == 0 {
			continue
		}
		for _, p := range m.Params {
			if p.Name == "code" {
				return p.Value
			}
		}
		return m.Params[0].Value
	}
	return ""
}

// Start serves the sandbox on a local port and returns a client pointed at
// it, with the server to close.
func (s *Sandbox) Start() (*sms.Client, *httptest.Server) {
	ts := httptest.NewServer(s)
	return s.Client(ts.URL), ts
}

// Client returns an sms client whose both providers are base (where the
// sandbox is served).
func (s *Sandbox) Client(base string) *sms.Client {
	return &sms.Client{AliyunEndpoint: base, TencentEndpoint: base}
}

// LastCodePath is the control endpoint the demo reads a code from: POST
// {"phone"} answers {"code"}, the last code sent to the phone (what the
// buyer's phone shows).
const LastCodePath = "/sandbox/last-code"

// ServeHTTP answers SendSms for the provider the headers name, and the
// control endpoint.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || r.Method != http.MethodPost {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if r.URL.Path == LastCodePath {
		var in struct{ Phone string }
		json.Unmarshal(body, &in)
		writeJSON(w, http.StatusOK, map[string]string{"phone": in.Phone, "code": s.LastCode(in.Phone)})
		return
	}
	if r.Header.Get("X-TC-Action") != "" {
		s.tencent(w, r, body)
		return
	}
	s.aliyun(w, r, body)
}

// takeFailure pops the next scripted failure's code for provider (0 Aliyun, 1 Tencent).
func (s *Sandbox) takeFailure(provider int) string {
	if len(s.fails) == 0 {
		return ""
	}
	f := s.fails[0]
	s.fails = s.fails[1:]
	return codes[f][provider]
}

func (s *Sandbox) record(m Sent) string {
	m.At = s.now()
	s.sent = append(s.sent, m)
	s.seq++
	return strconv.Itoa(s.seq)
}

func (s *Sandbox) refuse() { s.refusals++ }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// authFields splits "ALG k=v,k=v" (Tencent puts a space after each comma).
func authFields(h, alg string) (map[string]string, bool) {
	rest, ok := strings.CutPrefix(h, alg+" ")
	if !ok {
		return nil, false
	}
	out := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, false
		}
		out[k] = v
	}
	return out, true
}

func (s *Sandbox) aliyun(w http.ResponseWriter, r *http.Request, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := r.URL.Query()
	if code, msg := s.checkAliyun(r, q, body); code != "" {
		s.refuse()
		writeJSON(w, http.StatusBadRequest, map[string]string{"Code": code, "Message": msg, "RequestId": "sandbox"})
		return
	}
	if r.Header.Get("x-acs-action") != "SendSms" || r.Header.Get("x-acs-version") != "2017-05-25" {
		writeJSON(w, http.StatusNotFound, map[string]string{"Code": "InvalidAction.NotFound", "Message": "unknown action", "RequestId": "sandbox"})
		return
	}
	phone := q.Get("PhoneNumbers")
	code := s.takeFailure(0)
	if code == "" && !sms.ValidPhone(phone) {
		code = codes[InvalidNumber][0]
	}
	var params map[string]string
	if code == "" && (q.Get("SignName") == "" || q.Get("TemplateCode") == "" || json.Unmarshal([]byte(q.Get("TemplateParam")), &params) != nil) {
		code = codes[BadTemplate][0]
	}
	if code != "" {
		writeJSON(w, http.StatusOK, map[string]string{"Code": code, "Message": code, "RequestId": "sandbox"})
		return
	}
	m := Sent{Provider: sms.Aliyun, Phone: phone, SignName: q.Get("SignName"), Template: q.Get("TemplateCode")}
	for _, k := range sortedKeys(params) {
		m.Params = append(m.Params, sms.Param{Name: k, Value: params[k]})
	}
	id := s.record(m)
	writeJSON(w, http.StatusOK, map[string]string{"Code": "OK", "Message": "OK", "BizId": "sandbox-" + id, "RequestId": "sandbox-req-" + id})
}

// checkAliyun verifies an ACS3 request; it returns Aliyun's code on failure.
func (s *Sandbox) checkAliyun(r *http.Request, q url.Values, body []byte) (string, string) {
	f, ok := authFields(r.Header.Get("Authorization"), sms.AliyunAlgorithm)
	if !ok || f["Credential"] != AliyunKeyID {
		return "InvalidAccessKeyId.NotFound", "unknown AccessKey id"
	}
	signed := strings.Split(f["SignedHeaders"], ";")
	for _, need := range []string{"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"} {
		if !contains(signed, need) {
			return "IncompleteSignature", need + " is not signed"
		}
	}
	h := r.Header.Clone()
	h.Set("host", r.Host)
	cr := sms.AliyunCanonicalRequest(r.Method, r.URL.EscapedPath(), q, h, signed, body)
	if !equal(f["Signature"], sms.AliyunSignature(AliyunSecret, cr)) || !equal(h.Get("x-acs-content-sha256"), hashHex(body)) {
		return "SignatureDoesNotMatch", "the signature does not match"
	}
	at, err := time.Parse("2006-01-02T15:04:05Z", h.Get("x-acs-date"))
	if err != nil || at.Sub(s.now()).Abs() > 15*time.Minute {
		return "InvalidTimeStamp.Expired", "the timestamp is too far from the server's clock"
	}
	n := h.Get("x-acs-signature-nonce")
	if n == "" || s.nonces[n] {
		return "SignatureNonceUsed", "the nonce was used"
	}
	s.nonces[n] = true
	return "", ""
}

func (s *Sandbox) tencent(w http.ResponseWriter, r *http.Request, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fail := func(code, msg string) {
		writeJSON(w, http.StatusOK, map[string]any{"Response": map[string]any{"Error": map[string]string{"Code": code, "Message": msg}, "RequestId": "sandbox"}})
	}
	if code, msg := s.checkTencent(r, body); code != "" {
		s.refuse()
		fail(code, msg)
		return
	}
	var in struct {
		PhoneNumberSet                    []string
		SmsSdkAppId, SignName, TemplateId string
		TemplateParamSet                  []string
	}
	if json.Unmarshal(body, &in) != nil || r.Header.Get("X-TC-Action") != "SendSms" || len(in.PhoneNumberSet) != 1 {
		fail("InvalidParameter", "the request body is not a SendSms request for one number")
		return
	}
	if in.SmsSdkAppId != TencentSdkAppID {
		fail("FailedOperation.SmsSdkAppIdVerifyFail", "unknown SmsSdkAppId")
		return
	}
	phone := strings.TrimPrefix(in.PhoneNumberSet[0], "+86")
	code := s.takeFailure(1)
	if code == "" && (!strings.HasPrefix(in.PhoneNumberSet[0], "+86") || !sms.ValidPhone(phone)) {
		code = codes[InvalidNumber][1]
	}
	if code == "" && (in.SignName == "" || in.TemplateId == "") {
		code = codes[BadTemplate][1]
	}
	status := map[string]any{"PhoneNumber": in.PhoneNumberSet[0], "Fee": 1, "Code": "Ok", "Message": "send success"}
	if code != "" {
		status["Code"], status["Message"], status["Fee"] = code, code, 0
	} else {
		m := Sent{Provider: sms.Tencent, Phone: phone, SignName: in.SignName, Template: in.TemplateId}
		for _, v := range in.TemplateParamSet {
			m.Params = append(m.Params, sms.Param{Value: v})
		}
		status["SerialNo"] = "sandbox-" + s.record(m)
	}
	writeJSON(w, http.StatusOK, map[string]any{"Response": map[string]any{"SendStatusSet": []any{status}, "RequestId": "sandbox-req"}})
}

// checkTencent verifies a TC3 request; it returns Tencent's code on failure.
func (s *Sandbox) checkTencent(r *http.Request, body []byte) (string, string) {
	f, ok := authFields(r.Header.Get("Authorization"), sms.TencentAlgorithm)
	if !ok {
		return "AuthFailure.InvalidAuthorization", "the Authorization header is malformed"
	}
	ts, err := strconv.ParseInt(r.Header.Get("X-TC-Timestamp"), 10, 64)
	if err != nil {
		return "AuthFailure.InvalidAuthorization", "X-TC-Timestamp is missing"
	}
	if time.Unix(ts, 0).Sub(s.now()).Abs() > 5*time.Minute {
		return "AuthFailure.SignatureExpire", "the signature expired"
	}
	id, _, _ := strings.Cut(f["Credential"], "/")
	if id != TencentSecretID {
		return "AuthFailure.SecretIdNotFound", "unknown SecretId"
	}
	want := sms.TencentAuthorization(TencentSecretID, TencentSecretKey, r.Host, r.Header.Get("Content-Type"), ts, body)
	if !equal(r.Header.Get("Authorization"), want) {
		return "AuthFailure.SignatureFailure", "the signature does not match"
	}
	return "", ""
}
