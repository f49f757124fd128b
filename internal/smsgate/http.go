package smsgate

import (
	"net/http"
	"strings"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves phone codes, the buyer's SMS opt-out and staff's SMS
// settings and opt-out list.
type Handlers struct {
	Svc      *Service
	ClientIP func(*http.Request) string
}

// PhoneCodeInput asks for a code.
type PhoneCodeInput struct {
	Phone string `json:"phone" doc:"a mainland mobile number, 11 digits"`
}

// PhoneVerifyInput answers a code.
type PhoneVerifyInput struct {
	Phone string `json:"phone"`
	Code  string `json:"code" doc:"the 6 digits sent by SMS"`
}

// Routes registers the SMS routes.
func (h *Handlers) Routes(api *httpx.API) {
	const mini, admin = "mini: sms", "admin: sms"
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/me/phone/code", Tag: mini, Access: httpx.Member,
		Errors: map[int][]string{400: {"invalid_phone"}, 409: {"sms_not_configured", "sms_refused"},
			429: {"code_too_soon", "code_daily_limit", "sms_throttled"}, 503: {"sms_unavailable"}},
		Summary: "Send a 6-digit code by SMS to bind this phone (valid 5 minutes; one per phone per minute, daily caps per phone and address)",
		Request: PhoneCodeInput{}, Response: BuyerCodeSent{}, Handler: h.sendCode})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/me/phone/verify", Tag: mini, Access: httpx.Member,
		Errors: map[int][]string{400: {"invalid_phone", "invalid_code", "wrong_code", "code_expired", "code_not_found"},
			429: {"code_exhausted"}},
		Summary: "Bind the phone with the code it received (5 tries per code)",
		Request: PhoneVerifyInput{}, Response: BuyerPhone{}, Handler: h.verify})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/sms", Tag: mini, Access: httpx.Member,
		Summary: "My SMS preferences", Response: BuyerSMS{}, Handler: h.preferences})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/me/sms/unsubscribe", Tag: mini, Access: httpx.Member,
		Summary: "Stop marketing SMS (退订); order notices still come", Response: BuyerSMS{}, Handler: h.unsubscribe})

	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/sms/settings", Tag: admin, Access: httpx.Staff, Perm: auth.PermShopRead,
		Summary: "The shop's SMS provider, sign name and templates (the secret masked)", Response: Settings{}, Handler: h.settings})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/sms/settings", Tag: admin, Access: httpx.Staff, Perm: auth.PermShopSettings,
		Summary: "Set the shop's SMS provider (Aliyun or Tencent Cloud), keys, sign name and a template per message kind",
		Request: SettingsInput{}, Response: Settings{}, Handler: h.putSettings})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/sms/optouts", Tag: admin, Access: httpx.Staff, Perm: auth.PermMembersRead,
		Summary: "Members who unsubscribed from marketing SMS", Query: httpx.PageParams(), Response: httpx.Page[Optout]{}, Handler: h.optouts})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/sms/replies", Tag: admin, Access: httpx.Staff, Perm: auth.PermShopSettings,
		Errors:  map[int][]string{404: {"member_not_found"}},
		Summary: "Record a buyer's reply to a marketing SMS (T, 退订…): the members with that phone are unsubscribed",
		Request: ReplyInput{}, Response: ReplyResult{}, Handler: h.reply})
}

func memberOf(r *http.Request) auth.Member {
	m, _ := auth.MemberFrom(r.Context())
	return m
}

func (h *Handlers) sendCode(w http.ResponseWriter, r *http.Request) error {
	var in PhoneCodeInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	v, err := h.Svc.SendCode(r.Context(), memberOf(r), strings.TrimSpace(in.Phone), h.ClientIP(r))
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) verify(w http.ResponseWriter, r *http.Request) error {
	var in PhoneVerifyInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	v, err := h.Svc.VerifyCode(r.Context(), memberOf(r), strings.TrimSpace(in.Phone), strings.TrimSpace(in.Code))
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) preferences(w http.ResponseWriter, r *http.Request) error {
	m := memberOf(r)
	v, err := h.Svc.Preferences(r.Context(), m.ShopID, m.ID)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) unsubscribe(w http.ResponseWriter, r *http.Request) error {
	m := memberOf(r)
	v, err := h.Svc.Unsubscribe(r.Context(), m.ShopID, m.ID)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) settings(w http.ResponseWriter, r *http.Request) error {
	v, err := h.Svc.Settings(r.Context(), auth.StaffShop(r.Context()))
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) putSettings(w http.ResponseWriter, r *http.Request) error {
	var in SettingsInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	v, err := h.Svc.PutSettings(r.Context(), auth.StaffShop(r.Context()), in)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) optouts(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	rows, err := h.Svc.Optouts(r.Context(), auth.StaffShop(r.Context()), after, limit)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, httpx.PageOf(rows, limit, func(o Optout) int64 { return o.MemberID }))
	return nil
}

func (h *Handlers) reply(w http.ResponseWriter, r *http.Request) error {
	var in ReplyInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	v, err := h.Svc.RecordReply(r.Context(), auth.StaffShop(r.Context()), in)
	return httpx.Respond(w, http.StatusOK, v, err)
}
