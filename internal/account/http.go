package account

import (
	"net/http"
	"time"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// CookieName is the admin session cookie.
const CookieName = "kaidian_admin"

// Handlers serves the admin login and staff routes.
type Handlers struct {
	Svc      *Service
	ClientIP func(*http.Request) string
}

// Routes registers the account routes.
func (h *Handlers) Routes(api *httpx.API) {
	const tag = "admin: accounts"
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/auth/login", Errors: map[int][]string{401: {"invalid_credentials", "second_factor_required"}, 403: {"account_disabled"}, 429: {"too_many_login_attempts"}}, Tag: tag, Access: httpx.Public, Audited: true,
		Summary: "Log in as an operator or staff member (with two-step verification on: 401 second_factor_required and a challenge for /auth/login/totp)", Request: loginRequest{}, Response: LoginResult{}, Handler: h.login})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/auth/logout", Tag: tag, Access: httpx.Staff, Enrolment: true,
		Summary: "End this session", Status: http.StatusNoContent, Handler: h.logout})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/auth/me", Tag: tag, Access: httpx.Staff, Enrolment: true,
		Summary: "Who am I, and what may I do", Response: meResponse{}, Handler: h.me})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/auth/password", Tag: tag, Access: httpx.Staff,
		Summary: "Change my password (ends my other sessions)", Request: passwordRequest{}, Response: LoginResult{}, Handler: h.changePassword})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/staff", Tag: tag, Access: httpx.Staff, Perm: auth.PermStaff,
		Summary: "The shop's staff, oldest first", Query: httpx.PageParams(), Response: httpx.Page[Account]{}, Handler: h.listStaff})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/staff", Tag: tag, Access: httpx.Staff, Perm: auth.PermStaff, StepUp: true,
		Summary: "Add a staff account to the shop", Request: NewAccount{}, Response: Account{}, Status: http.StatusCreated, Handler: h.createStaff})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/staff/{id}", Tag: tag, Access: httpx.Staff, Perm: auth.PermStaff,
		Summary: "Get a staff account", Response: Account{}, Handler: h.getStaff})
	api.Add(httpx.Route{Method: "PATCH", Path: "/admin/api/v1/staff/{id}", Tag: tag, Access: httpx.Staff, Perm: auth.PermStaff, StepUp: true,
		Summary: "Change a staff account's role, name or status, or reset its password (ends its sessions at once); not your own password", Request: StaffUpdate{}, Response: Account{}, Handler: h.updateStaff})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/operators", Tag: tag, Access: httpx.Staff, Perm: auth.PermShops, StepUp: true,
		Summary: "Add an operator admin", Request: NewAccount{}, Response: Account{}, Status: http.StatusCreated, Handler: h.createOperator})
	h.securityRoutes(api, tag)
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type passwordRequest struct {
	OldPassword string `json:"old_password"`
	NewPassword string `json:"new_password"`
}

type meResponse struct {
	Account     Account           `json:"account"`
	ShopID      int64             `json:"shop_id" doc:"the shop this session acts on"`
	Permissions []auth.Permission `json:"permissions"`
	TOTPEnabled bool              `json:"totp_enabled" doc:"two-step verification (TOTP) is on"`
	MustEnrol   bool              `json:"totp_enrolment_required" doc:"two-step verification is required of this account and not set up: only enrolment, me and logout work until it is"`
	SteppedUp   bool              `json:"stepped_up" doc:"sensitive actions need no code now (one verified within 5 minutes, or no TOTP)"`
}

func (h *Handlers) login(w http.ResponseWriter, r *http.Request) error {
	var in loginRequest
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	if in.Username == "" || in.Password == "" || len(in.Username) > 64 || len(in.Password) > 256 {
		return errBadLogin
	}
	res, err := h.Svc.LoginWith(r.Context(), in.Username, in.Password, h.meta(r))
	if err != nil {
		return err
	}
	setSessionCookie(w, r, res.Token, res.ExpiresAt)
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}

// setSessionCookie sets the HttpOnly session cookie and the readable CSRF
// cookie that state-changing cookie requests must echo in X-CSRF-Token.
func setSessionCookie(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	secure := r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: token, Path: "/admin", Expires: expires,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: CSRFToken(token), Path: "/admin", Expires: expires,
		Secure: secure, SameSite: http.SameSiteStrictMode})
}

func (h *Handlers) logout(w http.ResponseWriter, r *http.Request) error {
	if err := h.Svc.Logout(r.Context(), SessionToken(r)); err != nil {
		return err
	}
	setSessionCookie(w, r, "", time.Unix(0, 0))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) me(w http.ResponseWriter, r *http.Request) error {
	st, _ := auth.StaffFrom(r.Context())
	a, err := h.Svc.Get(r.Context(), ownShop(st), st.AccountID)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, meResponse{Account: a, ShopID: st.ShopID, Permissions: st.Role.Permissions(),
		TOTPEnabled: st.TOTPEnabled, MustEnrol: st.MustEnrol, SteppedUp: st.SteppedUp})
	return nil
}

// ownShop is the shop an account belongs to (0 for operators, whatever shop
// they act on).
func ownShop(st auth.Staff) int64 {
	if st.Role == auth.RoleOperator || st.Agency {
		return 0
	}
	return st.ShopID
}

func (h *Handlers) changePassword(w http.ResponseWriter, r *http.Request) error {
	var in passwordRequest
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	res, err := h.Svc.ChangePassword(r.Context(), st.AccountID, in.OldPassword, in.NewPassword, h.meta(r))
	if err != nil {
		return err
	}
	setSessionCookie(w, r, res.Token, res.ExpiresAt)
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}

func (h *Handlers) listStaff(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	rows, err := h.Svc.ListStaff(r.Context(), auth.StaffShop(r.Context()), after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(rows, limit, func(a Account) int64 { return a.ID }), err)
}

func (h *Handlers) createStaff(w http.ResponseWriter, r *http.Request) error {
	var in NewAccount
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	a, err := h.Svc.CreateStaff(r.Context(), auth.StaffShop(r.Context()), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, a)
	return nil
}

func (h *Handlers) getStaff(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	a, err := h.Svc.Get(r.Context(), auth.StaffShop(r.Context()), id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, a)
	return nil
}

func (h *Handlers) updateStaff(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in StaffUpdate
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	if id == st.AccountID && (in.Role != nil || in.Disabled != nil) {
		return errs.E(errs.Conflict, "cannot_change_self", "you cannot change your own role or disable yourself")
	}
	if id == st.AccountID && in.Password != nil {
		// A stolen session must not be able to take the account over.
		return errs.E(errs.Conflict, "old_password_required", "change your own password with POST /admin/api/v1/auth/password, which needs the old one")
	}
	a, err := h.Svc.UpdateStaff(r.Context(), st.ShopID, id, in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, a)
	return nil
}

func (h *Handlers) createOperator(w http.ResponseWriter, r *http.Request) error {
	var in NewAccount
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	a, err := h.Svc.CreateOperator(r.Context(), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, a)
	return nil
}
