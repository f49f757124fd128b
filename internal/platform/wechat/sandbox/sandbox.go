// Package sandbox is a faithful in-process fake of WeChat's mini-program
// server APIs (api.weixin.qq.com), for tests and for the local demo.
//
// Like the real service it answers errors with HTTP 200 and an
// {"errcode","errmsg"} body. It serves, relative to where it is mounted:
//
//	GET  /sns/jscode2session
//	GET  /cgi-bin/token
//	POST /cgi-bin/stable_token
//	POST /wxa/business/getuserphonenumber
//	POST /wxa/msg_sec_check
//	POST /wxa/sec/order/upload_shipping_info (shipping info of payments made
//	     at the pay sandbox connected with UsePayments)
//	POST /wxa/media_check_async (results pushed by DeliverMediaChecks to the
//	     target of SetPushTarget; MarkMediaRisky makes images risky)
//	POST /wxa/getwxacodeunlimit (a real PNG drawn from the scene and page)
//	POST /cgi-bin/message/subscribe/send (templates added with AddTemplate,
//	     acceptances with Accept; delivered messages in SubscribeMessages)
//	POST /xpay/query_order, /xpay/notify_provide_goods, /xpay/refund_order,
//	     /xpay/query_user_balance (virtual payment: see xpay.go, with its
//	     /sandbox/xpay-… controls)
//
// plus the control endpoints under /sandbox/ (see ServeHTTP). It works
// mounted under a prefix with http.StripPrefix.
package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

const (
	codeTTL      = 5 * time.Minute    // login and phone codes
	tokenTTL     = 7200 * time.Second // access tokens
	tokenOverlap = 5 * time.Minute    // old stable token stays valid after a refresh
	maxBody      = 1 << 20
)

// Sandbox is the fake server. Its zero value is not usable; call New.
// It is safe for concurrent use.
type Sandbox struct {
	mu         sync.Mutex
	now        func() time.Time
	apps       map[string]*app
	tokens     map[string]*accessToken
	logins     map[string]*loginCode
	users      map[string]bool // appid + "\x00" + openid of every user a login code was issued for
	phones     map[string]*phoneCode
	failures   map[string][]int // queued errcodes by API path
	hangs      map[string]int   // calls to hang by API path (HangNext)
	phoneCalls int              // alternates the type of countryCode

	payments     Payments             // the pay sandbox, for the shipping APIs
	paymentDelay time.Duration        // how long a payment stays invisible to them
	shipments    map[string]*shipment // by transaction_id
	codesDrawn   []DrawnCode          // getwxacodeunlimit calls answered with an image

	mediaChecks map[string]*MediaCheck // media_check_async calls by trace_id
	mediaOrder  []string               // their trace ids, oldest first
	riskyMedia  []string               // URL parts that make an image risky
	pushTargets map[string]PushTarget  // by appid
	subscribe   *subscribeState        // subscription messages (subscribe.go)
	xpay        *xpayState             // virtual payment (xpay.go)
	oa          *oaState               // Official Account template messages (oa.go)
}

type app struct {
	secret  string
	plain   string // current /cgi-bin/token token
	stable  string // current /cgi-bin/stable_token token
	fetches int
}

type accessToken struct {
	appid   string
	expires time.Time
	revoked bool
}

type loginCode struct {
	appid, openid, unionid string
	expires                time.Time
	used                   bool
}

type phoneCode struct {
	appid, phone string
	expires      time.Time
	used         bool
}

// New returns an empty sandbox that uses the real clock.
func New() *Sandbox {
	return &Sandbox{
		now:      time.Now,
		apps:     make(map[string]*app),
		tokens:   make(map[string]*accessToken),
		logins:   make(map[string]*loginCode),
		users:    make(map[string]bool),
		phones:   make(map[string]*phoneCode),
		failures: make(map[string][]int),
		hangs:    make(map[string]int),

		shipments: make(map[string]*shipment),
	}
}

// AddApp registers a mini program. Adding an existing appid again only
// updates its secret.
func (s *Sandbox) AddApp(appid, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.apps[appid]; ok {
		a.secret = secret
		return
	}
	s.apps[appid] = &app{secret: secret}
}

// SetClock replaces the sandbox clock (for tests of code and token expiry).
// A nil now restores time.Now.
func (s *Sandbox) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// apiRoute is one WeChat API; handle runs with s.mu held.
type apiRoute struct {
	method string
	handle func(s *Sandbox, r *http.Request, body []byte) reply
}

var apiRoutes = map[string]apiRoute{
	"/sns/jscode2session":              {http.MethodGet, (*Sandbox).jscode2session},
	"/cgi-bin/token":                   {http.MethodGet, (*Sandbox).plainToken},
	"/cgi-bin/stable_token":            {http.MethodPost, (*Sandbox).stableToken},
	"/wxa/business/getuserphonenumber": {http.MethodPost, (*Sandbox).phoneNumber},
	"/wxa/msg_sec_check":               {http.MethodPost, (*Sandbox).msgSecCheck},
	shippingUploadAPI:                  {http.MethodPost, (*Sandbox).uploadShippingInfo},
	unlimitedCodeAPI:                   {http.MethodPost, (*Sandbox).unlimitedCode},
}

// ServeHTTP implements http.Handler. Besides the WeChat APIs it serves
// these POST control endpoints (JSON in, JSON out; HTTP 400 with
// {"error"} on bad input):
//
//	/sandbox/login-code     {"appid","openid"?,"unionid"?} → {"code","openid"}
//	/sandbox/phone-code     {"appid","phone"}              → {"code"}
//	/sandbox/fail-next      {"path","errcode"}             → {}
//	/sandbox/expire-tokens  {"appid"}                      → {}
//	/sandbox/hang-next      {"path"}                       → {}
//	/sandbox/shipping       {"appid"}                      → {"uploads":[ShippingUpload]}
//	/sandbox/media-checks   {"appid"}                      → {"checks":[MediaCheck]}
//	/sandbox/media-risky    {"url_part"}                   → {}
//	/sandbox/media-deliver  {"appid","url"?,"token"?,"encoding_aes_key"?} → {"delivered"}
//	/sandbox/subscribe-template {"appid","template_id","keys"}      → {}
//	/sandbox/subscribe-accept   {"appid","openid"?,"template_id","count"?} → {"quota"}
//	/sandbox/subscribe-messages {"appid"}                          → {"messages":[SubscribeMessage]}
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/sandbox/") {
		s.serveControl(w, r)
		return
	}
	route, ok := apiRoutes[r.URL.Path]
	if !ok {
		writeJSON(w, http.StatusNotFound, errReply(errInvalidURL))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeJSON(w, http.StatusOK, errReply(errDataFormat))
		return
	}
	if s.popHang(r.URL.Path) {
		s.hang(r)
		writeJSON(w, http.StatusOK, errReply(-1))
		return
	}
	rep := s.serveAPI(r, route, body)
	if img, ok := rep[imageReply].([]byte); ok {
		w.Header().Set("Content-Type", "image/png")
		w.Write(img)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (s *Sandbox) serveAPI(r *http.Request, route apiRoute, body []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code, ok := s.popFailure(r.URL.Path); ok {
		return errReply(code)
	}
	if r.Method != route.method {
		if route.method == http.MethodGet {
			return errReply(errRequireGET)
		}
		return errReply(errRequirePOST)
	}
	return route.handle(s, r, body)
}

// popFailure takes the next queued errcode for path, if any.
func (s *Sandbox) popFailure(path string) (int, bool) {
	queue := s.failures[path]
	if len(queue) == 0 {
		return 0, false
	}
	if len(queue) == 1 {
		delete(s.failures, path)
	} else {
		s.failures[path] = queue[1:]
	}
	return queue[0], true
}

// checkApp validates an appid/secret pair; it returns 0 when they match.
func (s *Sandbox) checkApp(appid, secret string) int {
	a, ok := s.apps[appid]
	switch {
	case appid == "":
		return errMissingAppID
	case !ok:
		return errInvalidAppID
	case secret == "":
		return errMissingSecret
	case secret != a.secret:
		return errInvalidSecret
	}
	return 0
}

// checkToken validates the access_token query parameter and returns its
// appid, or an errcode.
func (s *Sandbox) checkToken(r *http.Request) (string, int) {
	value := r.URL.Query().Get("access_token")
	if value == "" {
		return "", errMissingToken
	}
	t, ok := s.tokens[value]
	switch {
	case !ok || t.revoked:
		return "", errInvalidToken
	case !s.now().Before(t.expires):
		return "", errExpiredToken
	}
	return t.appid, 0
}

// reply is a JSON response body.
type reply map[string]any

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
