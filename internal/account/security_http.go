package account

import (
	"net/http"
	"time"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
	"github.com/kaidian/kaidian/internal/platform/session"
)

// codeErrors are the answers to a wrong, reused or too frequent code.
var codeErrors = map[int][]string{400: {"invalid_code"}, 409: {"code_reused"}, 429: {"too_many_code_attempts"}}

func withCodeErrors(extra map[int][]string) map[int][]string {
	out := map[int][]string{}
	for _, m := range []map[int][]string{codeErrors, extra} {
		for k, v := range m {
			out[k] = append(out[k], v...)
		}
	}
	return out
}

// securityRoutes registers two-step verification, sessions and the shop's
// policy.
func (h *Handlers) securityRoutes(api *httpx.API, tag string) {
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/auth/login/totp", Tag: tag, Access: httpx.Public, Audited: true,
		Errors:  withCodeErrors(map[int][]string{401: {"challenge_expired"}, 409: {"totp_not_enabled"}}),
		Summary: "A login's second step: the challenge of a right password and a current code (or a recovery code, each usable once)",
		Request: totpLoginRequest{}, Response: LoginResult{}, Handler: h.loginTOTP})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/auth/totp/enrol", Tag: tag, Access: httpx.Staff, Enrolment: true,
		Errors:   map[int][]string{409: {"totp_already_enabled", "totp_unavailable"}},
		Summary:  "Start two-step verification: a new TOTP secret and its otpauth:// URL (pending until confirmed; enrolling again replaces a pending secret)",
		Response: Enrolment{}, Status: http.StatusCreated, Handler: h.enrol})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/auth/totp/confirm", Tag: tag, Access: httpx.Staff, Enrolment: true,
		Errors:  withCodeErrors(map[int][]string{409: {"totp_not_pending", "totp_unavailable"}}),
		Summary: "Turn two-step verification on with a code from the app: answers the 10 recovery codes, shown this once",
		Request: codeRequest{}, Response: recoveryCodes{}, Handler: h.confirm})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/auth/totp/verify", Tag: tag, Access: httpx.Staff,
		Errors:  withCodeErrors(map[int][]string{409: {"totp_not_enabled", "totp_unavailable"}}),
		Summary: "Verify a current code: this session's sensitive actions need no other for 5 minutes (step-up)",
		Request: codeRequest{}, Response: stepUpResult{}, Handler: h.verify})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/auth/totp/disable", Tag: tag, Access: httpx.Staff,
		Errors:  withCodeErrors(map[int][]string{409: {"totp_not_enabled", "totp_unavailable"}}),
		Summary: "Turn my two-step verification off, with a current code or a recovery code (where it is required, I must enrol again)",
		Request: disableRequest{}, Status: http.StatusNoContent, Handler: h.disable})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/auth/sessions", Tag: tag, Access: httpx.Staff,
		Summary:  "My live sessions, newest first (the whole list, not a page: at most 200); never their tokens",
		Response: []session.Listed{}, Handler: h.sessions})
	api.Add(httpx.Route{Method: "DELETE", Path: "/admin/api/v1/auth/sessions/{id}", Tag: tag, Access: httpx.Staff,
		Errors:  map[int][]string{404: {"session_not_found"}},
		Summary: "End one of my sessions (this one too, if named)", Status: http.StatusNoContent, Handler: h.revokeSession})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/staff/{id}/totp/reset", Tag: tag, Access: httpx.Staff, Perm: auth.PermStaff, StepUp: true,
		Errors:  map[int][]string{404: {"account_not_found"}, 409: {"cannot_change_self"}},
		Summary: "Reset a staff account's two-step verification (a lost device without recovery codes): removes it and ends the account's sessions; logged",
		Status:  http.StatusNoContent, Handler: h.resetTOTP})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/shop/totp-policy", Tag: tag, Access: httpx.Staff, Perm: auth.PermShopRead,
		Summary: "Whether the shop requires two-step verification of every role", Response: Policy{}, Handler: h.policy})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/shop/totp-policy", Tag: tag, Access: httpx.Staff, Perm: auth.PermStaff, StepUp: true,
		Summary: "Require two-step verification of every role of the shop, or only of owners (where the server requires it)",
		Request: Policy{}, Response: Policy{}, Handler: h.setPolicy})
}

type totpLoginRequest struct {
	Challenge    string `json:"challenge" doc:"from the login's 401 second_factor_required"`
	Code         string `json:"code,omitempty" doc:"6 digits from the authenticator app"`
	RecoveryCode string `json:"recovery_code,omitempty" doc:"instead of code: one of the recovery codes (spent)"`
}

type codeRequest struct {
	Code string `json:"code" doc:"6 digits from the authenticator app"`
}

type disableRequest struct {
	Code         string `json:"code,omitempty" doc:"6 digits from the authenticator app"`
	RecoveryCode string `json:"recovery_code,omitempty" doc:"instead of code: a recovery code (spent)"`
}

type recoveryCodes struct {
	RecoveryCodes []string `json:"recovery_codes" doc:"10 codes, each usable once instead of a code; shown only now"`
}

type stepUpResult struct {
	Until time.Time `json:"stepped_up_until"`
}

// meta is where a request comes from, kept with the session it opens.
func (h *Handlers) meta(r *http.Request) session.Meta {
	return session.Meta{Addr: h.ClientIP(r), UserAgent: r.UserAgent()}
}

func (h *Handlers) loginTOTP(w http.ResponseWriter, r *http.Request) error {
	var in totpLoginRequest
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	res, err := h.Svc.LoginTOTP(r.Context(), in.Challenge, in.Code, in.RecoveryCode, h.meta(r))
	if err != nil {
		return err
	}
	setSessionCookie(w, r, res.Token, res.ExpiresAt)
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}

func (h *Handlers) enrol(w http.ResponseWriter, r *http.Request) error {
	st, _ := auth.StaffFrom(r.Context())
	e, err := h.Svc.Enrol(r.Context(), st.AccountID)
	return httpx.Respond(w, http.StatusCreated, e, err)
}

func (h *Handlers) confirm(w http.ResponseWriter, r *http.Request) error {
	var in codeRequest
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	codes, err := h.Svc.Confirm(r.Context(), st.AccountID, in.Code)
	if err == nil {
		// The code just checked steps this session up as well.
		err = h.Svc.sessions.StepUp(r.Context(), SessionToken(r))
	}
	return httpx.Respond(w, http.StatusOK, recoveryCodes{RecoveryCodes: codes}, err)
}

func (h *Handlers) verify(w http.ResponseWriter, r *http.Request) error {
	var in codeRequest
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	until, err := h.Svc.StepUp(r.Context(), st, SessionToken(r), in.Code)
	return httpx.Respond(w, http.StatusOK, stepUpResult{Until: until}, err)
}

func (h *Handlers) disable(w http.ResponseWriter, r *http.Request) error {
	var in disableRequest
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	if err := h.Svc.Disable(r.Context(), st.AccountID, in.Code, in.RecoveryCode); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) sessions(w http.ResponseWriter, r *http.Request) error {
	st, _ := auth.StaffFrom(r.Context())
	list, err := h.Svc.Sessions(r.Context(), st, SessionToken(r))
	return httpx.Respond(w, http.StatusOK, list, err)
}

func (h *Handlers) revokeSession(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	if err := h.Svc.RevokeSession(r.Context(), st, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) resetTOTP(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	if err := h.Svc.ResetTOTP(r.Context(), st, st.ShopID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) policy(w http.ResponseWriter, r *http.Request) error {
	p, err := h.Svc.Policy(r.Context(), auth.StaffShop(r.Context()))
	return httpx.Respond(w, http.StatusOK, p, err)
}

func (h *Handlers) setPolicy(w http.ResponseWriter, r *http.Request) error {
	var in Policy
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	p, err := h.Svc.SetPolicy(r.Context(), auth.StaffShop(r.Context()), in)
	return httpx.Respond(w, http.StatusOK, p, err)
}
