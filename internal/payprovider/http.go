package payprovider

import (
	"net/http"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves the service-provider routes (operators only).
type Handlers struct{ Svc *Service }

// Routes registers the service-provider routes.
func (h *Handlers) Routes(api *httpx.API) {
	const tag = "admin: WeChat Pay service providers"
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/pay-providers", Tag: tag, Access: httpx.Staff, Perm: auth.PermShops,
		Summary: "Every WeChat Pay service provider (服务商), oldest first (operators)", Query: httpx.PageParams(),
		Response: httpx.Page[Provider]{}, Handler: h.list})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/pay-providers", Tag: tag, Access: httpx.Staff, Perm: auth.PermShops,
		Summary: "Add a WeChat Pay service provider with its keys; shops in partner mode take payments through it as sub-merchants (operators)",
		Errors:  map[int][]string{409: {"pay_provider_taken"}}, Request: CreateInput{}, Response: Provider{}, Status: http.StatusCreated, Handler: h.create})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/pay-providers/{id}", Tag: tag, Access: httpx.Staff, Perm: auth.PermShops,
		Summary: "Get a WeChat Pay service provider (operators)", Response: Provider{}, Handler: h.get})
	api.Add(httpx.Route{Method: "PATCH", Path: "/admin/api/v1/pay-providers/{id}", Tag: tag, Access: httpx.Staff, Perm: auth.PermShops,
		Summary: "Change a WeChat Pay service provider's settings and keys (operators)", Request: UpdateInput{}, Response: Provider{}, Handler: h.update})
}

func (h *Handlers) list(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	rows, err := h.Svc.List(r.Context(), after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(rows, limit, func(p Provider) int64 { return p.ID }), err)
}

func (h *Handlers) create(w http.ResponseWriter, r *http.Request) error {
	var in CreateInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	p, err := h.Svc.Create(r.Context(), in)
	return httpx.Respond(w, http.StatusCreated, p, err)
}

func (h *Handlers) get(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	p, err := h.Svc.Get(r.Context(), id)
	return httpx.Respond(w, http.StatusOK, p, err)
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
	p, err := h.Svc.Update(r.Context(), id, in)
	return httpx.Respond(w, http.StatusOK, p, err)
}
