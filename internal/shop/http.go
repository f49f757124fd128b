package shop

import (
	"net/http"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves the shop routes.
type Handlers struct{ Svc *Service }

// WeChatSettings is what shop staff may change about their own shop.
type WeChatSettings struct {
	MchID          *string       `json:"mch_id,omitempty"`
	MchCertSerial  *string       `json:"mch_cert_serial,omitempty"`
	PayPublicKeyID *string       `json:"pay_public_key_id,omitempty"`
	Secrets        *SecretsInput `json:"secrets,omitempty" doc:"write-only; responses show only whether each is set"`
}

// Settings is what shop owners may change about how their shop sells.
type Settings struct {
	Orders *OrderSettings `json:"orders,omitempty"`
}

// Routes registers the shop routes.
func (h *Handlers) Routes(api *httpx.API) {
	const tag = "admin: shops"
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/shops", Tag: tag, Access: httpx.Staff, Perm: auth.PermShops,
		Summary: "Every shop, oldest first (operators)", Query: httpx.PageParams(), Response: httpx.Page[Shop]{}, Handler: h.list})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/shops", Tag: tag, Access: httpx.Staff, Perm: auth.PermShops,
		Errors: map[int][]string{409: {"public_url_required"}}, Summary: "Create a shop (operators)", Request: CreateInput{}, Response: Shop{}, Status: http.StatusCreated, Handler: h.create})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/shops/{id}", Tag: tag, Access: httpx.Staff, Perm: auth.PermShops,
		Summary: "Get a shop (operators)", Response: Shop{}, Handler: h.get})
	api.Add(httpx.Route{Method: "PATCH", Path: "/admin/api/v1/shops/{id}", Tag: tag, Access: httpx.Staff, Perm: auth.PermShops,
		Summary: "Change a shop: name, subject type, brand authorization, WeChat settings, disabled (operators)",
		Errors:  map[int][]string{409: {"public_url_required"}}, Request: UpdateInput{}, Response: Shop{}, Handler: h.update})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/shop", Tag: tag, Access: httpx.Staff, Perm: auth.PermShopRead,
		Summary: "The shop this session acts on", Response: Shop{}, Handler: h.own})
	api.Add(httpx.Route{Method: "PATCH", Path: "/admin/api/v1/shop/settings", Tag: tag, Access: httpx.Staff, Perm: auth.PermShopSettings,
		Summary: "Change the shop's order rules (unpaid-order timeout, shipping fee)", Request: Settings{}, Response: Shop{}, Handler: h.updateSettings})
	api.Add(httpx.Route{Method: "PATCH", Path: "/admin/api/v1/shop/wechat", Tag: tag, Access: httpx.Staff, Perm: auth.PermShopSettings, StepUp: true,
		Errors: map[int][]string{409: {"public_url_required"}}, Summary: "Change the shop's WeChat Pay settings and secrets (refused while the server has no public URL for WeChat Pay's notifications)", Request: WeChatSettings{}, Response: Shop{}, Handler: h.updateWeChat})
}

func (h *Handlers) list(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	rows, err := h.Svc.List(r.Context(), after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(rows, limit, func(sh Shop) int64 { return sh.ID }), err)
}

func (h *Handlers) create(w http.ResponseWriter, r *http.Request) error {
	var in CreateInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	sh, err := h.Svc.Create(r.Context(), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, sh)
	return nil
}

func (h *Handlers) get(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	return h.respond(w, r, id)
}

func (h *Handlers) respond(w http.ResponseWriter, r *http.Request, id int64) error {
	sh, err := h.Svc.Get(r.Context(), id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, sh)
	return nil
}

func (h *Handlers) update(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in UpdateInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	sh, err := h.Svc.Update(r.Context(), id, in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, sh)
	return nil
}

func (h *Handlers) own(w http.ResponseWriter, r *http.Request) error {
	return h.respond(w, r, auth.StaffShop(r.Context()))
}

func (h *Handlers) updateWeChat(w http.ResponseWriter, r *http.Request) error {
	var in WeChatSettings
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	sh, err := h.Svc.Update(r.Context(), auth.StaffShop(r.Context()), UpdateInput{
		MchID: in.MchID, MchCertSerial: in.MchCertSerial, PayPublicKeyID: in.PayPublicKeyID, Secrets: in.Secrets})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, sh)
	return nil
}

func (h *Handlers) updateSettings(w http.ResponseWriter, r *http.Request) error {
	var in Settings
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	sh, err := h.Svc.Update(r.Context(), auth.StaffShop(r.Context()), UpdateInput{Orders: in.Orders})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, sh)
	return nil
}
