// Package paysandbox is a faithful in-process fake of WeChat Pay API v3
// (api.mch.weixin.qq.com) for tests and the local demo. WeChat Pay has no
// sandbox of its own.
//
// It generates its own platform keys per Sandbox (an RSA key with a
// self-signed certificate, and a "PUB_KEY_ID_…" public key; WithKeyMode
// picks which one signs), knows merchants (AddMerchant, or NewMerchant to
// generate a complete set of merchant credentials), checks every request's
// Authorization header as WeChat does and signs every response. It serves,
// relative to where it is mounted (it works under http.StripPrefix):
//
//	POST /v3/pay/transactions/jsapi
//	GET  /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=
//	GET  /v3/pay/transactions/id/{transaction_id}?mchid=
//	POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close
//	POST /v3/pay/partner/transactions/jsapi                 (service-provider mode, see partner.go)
//	GET  /v3/pay/partner/transactions/out-trade-no/{out_trade_no}?sp_mchid=&sub_mchid=
//	GET  /v3/pay/partner/transactions/id/{transaction_id}?sp_mchid=&sub_mchid=
//	POST /v3/pay/partner/transactions/out-trade-no/{out_trade_no}/close
//	POST /v3/refund/domestic/refunds                        (sub_mchid in the body for a sub-merchant)
//	GET  /v3/refund/domestic/refunds/{out_refund_no}        (?sub_mchid= for a sub-merchant)
//	GET  /v3/bill/tradebill?bill_date=&bill_type=&tar_type=
//	GET  /v3/billdownload/file?token=   (unsigned file)
//	GET  /v3/certificates               (platform certificates, sealed with the APIv3 key)
//
// The payer's side and the faults are driven by Go methods (Pay,
// CompleteRefund, TamperNextNotification, FailNext,
// RotatePlatformCertificate, …) or the equivalent
// JSON endpoints under /sandbox/pay/ (see ServeHTTP).
package paysandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	maxBody       = 1 << 20
	clockSkew     = 300 * time.Second
	authScheme    = "WECHATPAY2-SHA256-RSA2048"
	notifyTimeout = 5 * time.Second // WeChat's limit for a notification answer
)

var chinaTime = time.FixedZone("CST", 8*3600)

// KeyMode chooses which platform key signs responses and notifications.
type KeyMode string

// Key modes.
const (
	// KeyModeCertificate signs with the platform certificate's key;
	// Wechatpay-Serial is the certificate serial.
	KeyModeCertificate KeyMode = "certificate"
	// KeyModePublicKey signs with the WeChat Pay public key's private
	// half; Wechatpay-Serial is "PUB_KEY_ID_…".
	KeyModePublicKey KeyMode = "public_key"
)

// DefaultRetrySchedule is the redelivery backoff for notifications not
// answered 2xx: WeChat's 15s/15s/30s/3m/… compressed for tests.
var DefaultRetrySchedule = []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}

// Sandbox is the fake server. Create it with New. It is safe for
// concurrent use.
type Sandbox struct {
	keys    *platformKeys
	api     http.Handler
	http    *http.Client // delivers notifications
	clock   atomic.Pointer[func() time.Time]
	hangMax time.Duration
	// refundAfter > 0 completes each new refund with SUCCESS after this
	// long, as WeChat does by itself (the demo); 0 leaves refunds
	// PROCESSING until CompleteRefund.
	refundAfter time.Duration
	closed      chan struct{}
	close       sync.Once

	mu              sync.Mutex
	mode            KeyMode
	retries         []time.Duration
	merchants       map[string]*merchant
	subMerchants    map[string]*subMerchant // by sub_mchid
	openIDs         func(appid, openid string) bool
	orders          map[string]*order  // by orderKey(mchid, out_trade_no)
	prepays         map[string]*order  // by prepay_id
	transactions    map[string]*order  // by transaction_id
	payOnClose      map[string]bool    // by orderKey: PayBeforeNextClose
	refunds         map[string]*refund // by orderKey(mchid, out_refund_no)
	nonces          map[string]time.Time
	noncesPruned    time.Time
	bills           map[string]*billFile // by download token
	failures        map[string][]Failure
	notifyTampers   []Tamper
	responseTampers []Tamper
	corruptBills    int
}

// Option configures a Sandbox.
type Option func(*Sandbox)

// WithKeyMode picks the platform key that signs (default
// KeyModeCertificate).
func WithKeyMode(m KeyMode) Option { return func(s *Sandbox) { s.mode = m } }

// WithRetrySchedule sets the waits before each notification redelivery
// (default DefaultRetrySchedule); an empty schedule means no redelivery.
func WithRetrySchedule(waits ...time.Duration) Option {
	return func(s *Sandbox) { s.retries = append([]time.Duration(nil), waits...) }
}

// WithHTTPClient sets the client that delivers notifications (default: a
// 5 s timeout, WeChat's limit).
func WithHTTPClient(c *http.Client) Option { return func(s *Sandbox) { s.http = c } }

// WithHangLimit bounds how long a FailTimeout request hangs if its client
// does not give up first (default 30 s).
func WithHangLimit(d time.Duration) Option { return func(s *Sandbox) { s.hangMax = d } }

// New returns a sandbox with fresh platform keys and no merchants.
func New(opts ...Option) (*Sandbox, error) {
	keys, err := newPlatformKeys(time.Now())
	if err != nil {
		return nil, err
	}
	s := &Sandbox{
		keys:         keys,
		http:         &http.Client{Timeout: notifyTimeout},
		hangMax:      30 * time.Second,
		closed:       make(chan struct{}),
		mode:         KeyModeCertificate,
		retries:      slices.Clone(DefaultRetrySchedule),
		merchants:    make(map[string]*merchant),
		subMerchants: make(map[string]*subMerchant),
		orders:       make(map[string]*order),
		prepays:      make(map[string]*order),
		transactions: make(map[string]*order),
		refunds:      make(map[string]*refund),
		nonces:       make(map[string]time.Time),
		bills:        make(map[string]*billFile),
		failures:     make(map[string][]Failure),
	}
	s.SetClock(nil)
	for _, opt := range opts {
		opt(s)
	}
	s.api = s.routes()
	return s, nil
}

// Close releases requests hanging under FailTimeout and stops notification
// redelivery. The sandbox keeps serving.
func (s *Sandbox) Close() { s.close.Do(func() { close(s.closed) }) }

// SetClock replaces the sandbox clock: request timestamps are judged and
// responses, notifications and orders are dated by it. A nil now restores
// time.Now. Clients verify timestamps against their own clock, so keep
// the two within five minutes.
func (s *Sandbox) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.clock.Store(&now)
}

func (s *Sandbox) now() time.Time { return (*s.clock.Load())() }

// SetKeyMode switches the platform key that signs from now on.
func (s *Sandbox) SetKeyMode(m KeyMode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = m
}

func (s *Sandbox) keyMode() KeyMode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mode
}

// ServeHTTP implements http.Handler. Besides the WeChat Pay API it serves
// POST control endpoints under /sandbox/pay/ (JSON in and out; HTTP 400
// with {"error"} on bad input):
//
//	/sandbox/pay/merchant             {"mchid"?,"appid"?}                  → Credentials
//	/sandbox/pay/sub-merchant         {"sp_mchid","sub_mchid","sub_appids"} → {}   (a service provider's sub-merchant)
//	/sandbox/pay/platform             {}                                   → Platform
//	/sandbox/pay/key-mode             {"mode"}                             → {}
//	/sandbox/pay/rotate-platform-cert {}                                   → Platform
//	/sandbox/pay/pay                  {"mchid","out_trade_no"} or {"prepay_id"} → Delivery
//	/sandbox/pay/request-payment      {"appid","params":{timeStamp,…}}     → Delivery
//	/sandbox/pay/renotify             {"mchid","out_trade_no"}             → Delivery
//	/sandbox/pay/complete-refund      {"mchid","out_refund_no","status"}   → Delivery
//	/sandbox/pay/tamper-next          {"mode"}                             → {}
//	/sandbox/pay/tamper-next-response {"mode"}                             → {}
//	/sandbox/pay/drop-next            {}                                   → {}
//	/sandbox/pay/fail-next            {"path","failure"}                   → {}
//	/sandbox/pay/corrupt-next-bill    {}                                   → {}
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/sandbox/pay/") {
		s.serveControl(w, r)
		return
	}
	s.api.ServeHTTP(w, r)
}

func (s *Sandbox) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /v3/pay/transactions/jsapi", s.signed((*Sandbox).prepay))
	mux.Handle("GET /v3/pay/transactions/out-trade-no/{out_trade_no}", s.signed((*Sandbox).queryByOutTradeNo))
	mux.Handle("GET /v3/pay/transactions/id/{transaction_id}", s.signed((*Sandbox).queryByTransactionID))
	mux.Handle("POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close", s.signed((*Sandbox).closeOrder))
	mux.Handle("POST /v3/pay/partner/transactions/jsapi", s.signed((*Sandbox).partnerPrepay))
	mux.Handle("GET /v3/pay/partner/transactions/out-trade-no/{out_trade_no}", s.signed((*Sandbox).partnerQueryByOutTradeNo))
	mux.Handle("GET /v3/pay/partner/transactions/id/{transaction_id}", s.signed((*Sandbox).partnerQueryByTransactionID))
	mux.Handle("POST /v3/pay/partner/transactions/out-trade-no/{out_trade_no}/close", s.signed((*Sandbox).partnerCloseOrder))
	mux.Handle("POST /v3/refund/domestic/refunds", s.signed((*Sandbox).createRefund))
	mux.Handle("GET /v3/refund/domestic/refunds/{out_refund_no}", s.signed((*Sandbox).queryRefund))
	mux.Handle("GET /v3/bill/tradebill", s.signed((*Sandbox).tradeBill))
	mux.Handle("GET /v3/certificates", s.signed((*Sandbox).certificates))
	mux.HandleFunc("GET /v3/billdownload/file", s.serveBillFile)
	mux.Handle("/", s.signed(func(*Sandbox, *apiCall) result {
		return apiError(http.StatusNotFound, "NOT_FOUND", "no such API")
	}))
	return mux
}

// apiCall is an authenticated API request.
type apiCall struct {
	r    *http.Request
	body []byte
	mch  *merchant
}

// result is an API answer; a nil body is sent empty.
type result struct {
	status int
	body   any
}

type reply map[string]any

func apiError(status int, code, message string) result {
	return result{status, reply{"code": code, "message": message}}
}

// apiFunc handles an authenticated call with s.mu held.
type apiFunc func(s *Sandbox, c *apiCall) result

// signed wraps an API: read the body, apply FailNext, authenticate, run
// h, and sign the answer (applying TamperNextResponse).
func (s *Sandbox) signed(h apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := s.admit(w, r)
		if !ok {
			return
		}
		s.mu.Lock()
		res := s.authenticated(r, body, h)
		tamper := pop(&s.responseTampers)
		mode := s.mode
		s.mu.Unlock()
		s.writeSigned(w, res, mode, tamper)
	})
}

func (s *Sandbox) authenticated(r *http.Request, body []byte, h apiFunc) result {
	mch, fail := s.authenticate(r, body)
	if mch == nil {
		return fail
	}
	return h(s, &apiCall{r: r, body: body, mch: mch})
}

// writeSigned sends res with Wechatpay-* signature headers (204 too).
func (s *Sandbox) writeSigned(w http.ResponseWriter, res result, mode KeyMode, tamper Tamper) {
	body := encodeJSON(res.body)
	for k, v := range s.signatureHeaders(body, mode, tamper) {
		w.Header().Set(k, v)
	}
	w.Header().Set("Request-Id", randomHex(16))
	if body != nil {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(res.status)
	w.Write(body)
}

// encodeJSON encodes v without HTML escaping; nil gives nil.
func encodeJSON(v any) []byte {
	if v == nil {
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("paysandbox: encode JSON: " + err.Error()) // only our own types are encoded
	}
	return buf.Bytes()
}

// decodeBody decodes a JSON request body; a failure is a 400 PARAM_ERROR.
func decodeBody(c *apiCall, v any) (result, bool) {
	if err := json.Unmarshal(c.body, v); err != nil {
		return apiError(http.StatusBadRequest, "PARAM_ERROR", "请求体不是合法的JSON: "+err.Error()), false
	}
	return result{}, true
}

// pop removes and returns the first element of a queue, or the zero value.
func pop[T any](queue *[]T) T {
	var zero T
	if len(*queue) == 0 {
		return zero
	}
	v := (*queue)[0]
	*queue = (*queue)[1:]
	return v
}

func orderKey(mchid, no string) string { return mchid + "\x00" + no }

// wxTime formats t as WeChat does: RFC 3339 in China time.
func wxTime(t time.Time) string { return t.In(chinaTime).Format("2006-01-02T15:04:05-07:00") }
