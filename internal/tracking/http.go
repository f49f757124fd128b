package tracking

import (
	"io"
	"net/http"
	"net/url"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/carriers"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
	"github.com/kaidian/kaidian/internal/platform/kuaidi100"
)

// Handlers serves parcels, the carrier list and the provider's pushes.
type Handlers struct{ Svc *Service }

const maxPushBytes = 1 << 20

// Routes registers the routes.
func (h *Handlers) Routes(api *httpx.API) {
	notFound := map[int][]string{404: {"order_not_found"}}
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/orders/{id}/parcels", Errors: notFound, Tag: "mini: orders", Access: httpx.Member,
		Summary: "My order's parcels and each one's route (物流轨迹), newest event first", Response: OrderParcels{}, Handler: h.mine})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/orders/{id}/parcels", Errors: notFound, Tag: "admin: orders", Access: httpx.Staff,
		Perm: auth.PermOrdersRead, Summary: "The order's parcels and their routes", Response: OrderParcels{}, Handler: h.any})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/carriers", Tag: "admin: orders", Access: httpx.Staff, Perm: auth.PermOrdersRead,
		Summary: "Express companies kaidian knows: WeChat's delivery code (what shipping reports to WeChat), name, aliases and 快递100 code",
		Query:   httpx.PageParams(), Response: httpx.Page[carriers.Carrier]{}, Handler: h.carriers})
	api.Add(httpx.Route{Method: "POST", Path: "/webhooks/kuaidi100/{id}", Tag: "webhooks", Access: httpx.Public, BodyLimit: maxPushBytes,
		Errors:  map[int][]string{400: {"push_malformed"}, 403: {"push_signature_invalid"}},
		Summary: "快递100's subscription pushes for shop {id} (a form: param, sign = MD5 of param + the shop's salt); answers 快递100's acknowledgement, anything else makes it push again",
		Handler: h.push})
}

func (h *Handlers) mine(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	m, _ := auth.MemberFrom(r.Context())
	v, err := h.Svc.ForOrder(r.Context(), m.ShopID, id, m.ID)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) any(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	v, err := h.Svc.ForOrder(r.Context(), auth.StaffShop(r.Context()), id, 0)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) carriers(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	all := carriers.All()
	from := min(int(after), len(all))
	end := min(from+limit, len(all))
	next := int64(0)
	if end < len(all) {
		next = int64(end)
	}
	return httpx.Respond(w, http.StatusOK, httpx.NewPage(all[from:end], next), nil)
}

func (h *Handlers) push(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return errs.E(errs.TooLarge, "body_too_large", "a push is at most 1 MiB")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return errs.E(errs.Invalid, "push_malformed", "the push is not a form")
	}
	if err := h.Svc.Pushed(r.Context(), id, form); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_, err = io.WriteString(w, kuaidi100.Ack)
	return err
}
