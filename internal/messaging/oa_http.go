package messaging

import (
	"io"
	"net/http"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

const maxOAPushBytes = 1 << 20

// oaRoutes registers the Official Account's settings and templates for
// staff, and the OA's push URL (set it, with the Token and EncodingAESKey,
// in the OA's 设置与开发 → 基本配置 → 服务器配置).
func (h *Handlers) oaRoutes(api *httpx.API) {
	const admin = "admin: messages"
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/messages/oa", Tag: admin, Access: httpx.Staff, Perm: auth.PermShopRead,
		Summary: "The shop's linked Official Account (公众号), secrets masked", Response: OASettings{}, Handler: h.oaSettings})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/messages/oa", Tag: admin, Access: httpx.Staff, Perm: auth.PermShopSettings,
		Errors:  map[int][]string{400: {"invalid_fields"}},
		Summary: "Link an Official Account: AppID, AppSecret and the Token / EncodingAESKey of its server settings (empty secrets keep the stored ones)",
		Request: OASettingsInput{}, Response: OASettings{}, Handler: h.putOASettings})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/messages/oa/templates", Tag: admin, Access: httpx.Staff, Perm: auth.PermShopRead,
		Summary: "Each kind's Official Account template and keyword mapping", Response: OATemplateList{}, Handler: h.oaTemplates})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/messages/oa/templates", Tag: admin, Access: httpx.Staff, Perm: auth.PermShopSettings,
		Errors:  map[int][]string{400: {"invalid_fields"}},
		Summary: "Set a kind's Official Account category template: its id and which value fills each keyword",
		Request: OATemplateInput{}, Response: OATemplate{}, Handler: h.setOATemplate})

	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/messages/oa/followers", Tag: admin, Access: httpx.Staff, Perm: auth.PermShopRead,
		Summary: "The Official Account's users as its subscribe / unsubscribe pushes reported them, newest first, with the member each links to",
		Query:   httpx.PageParams(), Response: httpx.Page[OAFollower]{}, Handler: h.oaFollowers})

	errors := map[int][]string{400: {"push_malformed"}, 401: {"push_signature_invalid"}, 409: {"push_not_configured"}}
	api.Add(httpx.Route{Method: "GET", Path: "/webhooks/wechat/{id}/oa-push", Tag: "webhooks", Access: httpx.Public, Errors: errors,
		Summary: "WeChat's check of shop {id}'s Official Account server URL: answers echostr (text/plain) when the signature verifies with the OA's Token",
		Query:   []httpx.Param{{Name: "signature", Type: "string"}, {Name: "timestamp", Type: "string"}, {Name: "nonce", Type: "string"}, {Name: "echostr", Type: "string"}},
		Handler: h.verifyOAPush})
	api.Add(httpx.Route{Method: "POST", Path: "/webhooks/wechat/{id}/oa-push", Tag: "webhooks", Access: httpx.Public, Errors: errors,
		Summary:   "The Official Account's pushes for shop {id}: subscribe / unsubscribe events record its followers; answers success (text/plain)",
		BodyLimit: maxOAPushBytes, Handler: h.receiveOAPush})
}

func (h *Handlers) oaSettings(w http.ResponseWriter, r *http.Request) error {
	st, err := h.Svc.OASettings(r.Context(), shopOf(r))
	return httpx.Respond(w, http.StatusOK, st, err)
}

func (h *Handlers) putOASettings(w http.ResponseWriter, r *http.Request) error {
	var in OASettingsInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, err := h.Svc.PutOASettings(r.Context(), shopOf(r), in)
	return httpx.Respond(w, http.StatusOK, st, err)
}

func (h *Handlers) oaTemplates(w http.ResponseWriter, r *http.Request) error {
	list, err := h.Svc.OATemplates(r.Context(), shopOf(r))
	return httpx.Respond(w, http.StatusOK, OATemplateList{Templates: list}, err)
}

func (h *Handlers) setOATemplate(w http.ResponseWriter, r *http.Request) error {
	var in OATemplateInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	t, err := h.Svc.SetOATemplate(r.Context(), shopOf(r), in)
	return httpx.Respond(w, http.StatusOK, t, err)
}

func (h *Handlers) oaFollowers(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	list, err := h.Svc.OAFollowers(r.Context(), shopOf(r), after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, func(f OAFollower) int64 { return f.ID }), err)
}

func (h *Handlers) verifyOAPush(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	echo, err := h.Svc.VerifyOAPushURL(r.Context(), id, r.URL.Query())
	if err != nil {
		return err
	}
	return writePlain(w, echo)
}

func (h *Handlers) receiveOAPush(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return errs.E(errs.TooLarge, "body_too_large", "a push is at most 1 MiB")
	}
	ack, err := h.Svc.ReceiveOAPush(r.Context(), id, r.URL.Query(), body)
	if err != nil {
		return err
	}
	return writePlain(w, ack)
}

func writePlain(w http.ResponseWriter, s string) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, err := io.WriteString(w, s)
	return err
}
