package httpx

import (
	"net/http"
	"sort"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Handler is an HTTP handler that returns its error instead of writing it.
type Handler func(w http.ResponseWriter, r *http.Request) error

// Access says who may call a route.
type Access int

const (
	Public Access = iota // anyone (health, login of staff, webhooks)
	Shop                 // a mini-program request: the shop comes from the appid
	Member               // a logged-in mini-program user
	Staff                // a logged-in admin with Route.Perm
)

// Param documents a query parameter.
type Param struct {
	Name, Type, Description string
	Enum                    []string // the values it takes, when they are a closed set
}

// Route is one endpoint: how it is served and how it is documented. Every
// route is added through API.Add, so the OpenAPI document always lists it.
type Route struct {
	Method    string
	Path      string // ServeMux pattern path, e.g. /api/v1/products/{id}
	Summary   string
	Tag       string
	Access    Access
	Perm      auth.Permission // required for Staff routes
	Request   any             // a value of the JSON body's type, or nil
	Response  any             // a value of the 2xx JSON body's type, or nil for 204
	Status    int             // success status (default 200)
	Query     []Param
	BodyLimit int64 // 0 = DefaultBodyLimit
	// Idempotent routes need an Idempotency-Key header; IdempotentOptional
	// routes take one if sent (both documented).
	Idempotent, IdempotentOptional bool
	// Errors lists, by HTTP status, the stable codes the route's own logic
	// answers, beyond those the platform gives every route of its kind (bad
	// JSON, no session, no permission, bad id): they go into the document.
	Errors map[int][]string
	// RateLimited routes count callers against a limit: the document lists
	// 429 too_many_requests with its Retry-After header.
	RateLimited bool
	// HotAuth lets a Member route take the buyer's session from a
	// short-lived in-process cache (Guards.MemberHot): for routes hit in
	// bursts, such as flash-sale claims, where a session revoked on
	// another server may still pass for a moment.
	HotAuth bool
	// Produces is the media type of a success answer that is a file, not
	// JSON (an XLSX export): documented as a binary body of that type.
	Produces string
	// Consumes is the media type of a request body that is not JSON (an
	// XLSX file, a multipart upload): the handler reads the bytes itself
	// (they are not checked as text). It is documented as a binary body of
	// that type, or with ConsumesSchema when given (a multipart form's
	// fields).
	Consumes       string
	ConsumesSchema map[string]any
	// StepUp routes are sensitive (staff changes, payment settings,
	// restores, exports of personal data): a staff member with TOTP must
	// have verified a code on this session within the last 5 minutes, or
	// send one in X-Kaidian-OTP (403 second_factor_required otherwise).
	// Staff without TOTP pass: they have nothing to verify.
	StepUp bool
	// MayStepUp routes ask for a step-up only in some cases, decided by
	// the handler with auth.Staff.SteppedUp (a refund above the limit); an
	// X-Kaidian-OTP header is checked when sent.
	MayStepUp bool
	// Enrolment routes serve a session that must still enrol a second
	// factor (auth.Staff.MustEnrol): enrolment, who am I, logout. Every
	// other Staff route answers it 403 totp_enrolment_required.
	Enrolment bool
	// Audited routes are recorded by the API's auditor whoever calls them
	// (a login); staff changes and exports are recorded anyway.
	Audited bool
	// Reveals routes answer personal data shown on request: the audit log
	// records that they were called and why, not what they showed.
	Reveals bool
	Handler Handler
}

// Guards authenticate requests; the server supplies them. Each returns the
// request with the caller added to its context, or an error to send back.
type Guards struct {
	Shop   func(r *http.Request) (*http.Request, error)
	Member func(r *http.Request) (*http.Request, error)
	// MemberHot is Member for HotAuth routes (nil = Member).
	MemberHot func(r *http.Request) (*http.Request, error)
	Staff     func(r *http.Request, perm auth.Permission) (*http.Request, error)
	// StepUp runs after Staff on StepUp and MayStepUp routes: it checks an
	// X-Kaidian-OTP header if sent and sets auth.Staff.SteppedUp; with
	// required it refuses a caller not stepped up. nil = no second factor.
	StepUp func(r *http.Request, required bool) (*http.Request, error)
}

// API is the route registry of one server.
type API struct {
	mux     *http.ServeMux
	guards  Guards
	routes  []Route
	auditor Auditor
}

// NewAPI returns an empty registry that serves on mux.
func NewAPI(mux *http.ServeMux, guards Guards) *API {
	return &API{mux: mux, guards: guards}
}

// Add registers rt on the mux behind its access guard.
func (a *API) Add(rt Route) {
	if rt.Status == 0 {
		rt.Status = http.StatusOK
	}
	a.routes = append(a.routes, rt)
	a.mux.Handle(rt.Method+" "+rt.Path, a.serve(rt))
}

// Routes returns the registered routes sorted by path and method.
func (a *API) Routes() []Route {
	out := append([]Route(nil), a.routes...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

func (a *API) serve(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, err := a.guard(rt, r)
		if err == nil {
			if rt.BodyLimit > 0 {
				r.Body = http.MaxBytesReader(w, r.Body, rt.BodyLimit)
			}
			if rt.Request == nil && rt.Consumes == "" && rt.Access != Public {
				err = checkRawBody(r, rt.BodyLimit)
			}
			if err == nil && a.auditor != nil && audited(rt) {
				err = a.serveAudited(rt, w, r)
			} else if err == nil {
				err = rt.Handler(w, r)
			}
		}
		if err != nil {
			WriteError(w, r, err)
		}
	})
}

func (a *API) guard(rt Route, r *http.Request) (*http.Request, error) {
	switch rt.Access {
	case Shop:
		return a.guards.Shop(r)
	case Member:
		if rt.HotAuth && a.guards.MemberHot != nil {
			return a.guards.MemberHot(r)
		}
		return a.guards.Member(r)
	case Staff:
		r, err := a.guards.Staff(r, rt.Perm)
		if err != nil {
			return r, err
		}
		return a.secondFactor(rt, r)
	}
	return r, nil
}

// secondFactor keeps a session that must enrol TOTP to the enrolment
// routes and asks StepUp routes for a recent second verification.
func (a *API) secondFactor(rt Route, r *http.Request) (*http.Request, error) {
	if st, _ := auth.StaffFrom(r.Context()); st.MustEnrol && !rt.Enrolment {
		return r, errs.E(errs.Forbidden, "totp_enrolment_required",
			"set up two-step verification first: POST /admin/api/v1/auth/totp/enrol, then /confirm")
	}
	if (rt.StepUp || rt.MayStepUp) && a.guards.StepUp != nil {
		return a.guards.StepUp(r, rt.StepUp)
	}
	return r, nil
}

// StepUpErrors are the codes a step-up answers (a wrong, reused or too
// frequent X-Kaidian-OTP, or none on a session not stepped up).
var StepUpErrors = map[int][]string{http.StatusForbidden: {"second_factor_required"},
	http.StatusBadRequest: {"invalid_code"}, http.StatusConflict: {"code_reused"},
	http.StatusTooManyRequests: {"too_many_code_attempts"}}
