package freight

import (
	"net/http"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves the staff's freight template routes.
type Handlers struct{ Svc *Service }

var inputErrors = []string{"rule_without_regions", "invalid_region", "duplicate_region", "negative_fee", "zero_units"}

// Routes registers the freight template routes.
func (h *Handlers) Routes(api *httpx.API) {
	const tag = "admin: freight"
	read, write := auth.PermCatalogRead, auth.PermCatalogWrite
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/freight-templates", Tag: tag, Access: httpx.Staff, Perm: read,
		Summary: "The shop's freight templates, newest first", Query: httpx.PageParams(), Response: httpx.Page[Template]{}, Handler: h.list})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/freight-templates", Tag: tag, Access: httpx.Staff, Perm: write,
		Errors:  map[int][]string{400: inputErrors},
		Summary: "Add a freight template (by piece or weight, region rules, free shipping, regions not delivered to)",
		Request: Input{}, Response: Template{}, Status: http.StatusCreated, Handler: h.create})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/freight-templates/{id}", Tag: tag, Access: httpx.Staff, Perm: read,
		Errors: map[int][]string{404: {"freight_template_not_found"}}, Summary: "A freight template", Response: Template{}, Handler: h.get})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/freight-templates/{id}", Tag: tag, Access: httpx.Staff, Perm: write,
		Errors:  map[int][]string{400: inputErrors, 404: {"freight_template_not_found"}},
		Summary: "Replace a freight template (orders placed keep the fee they were charged)", Request: Input{}, Response: Template{}, Handler: h.update})
	api.Add(httpx.Route{Method: "DELETE", Path: "/admin/api/v1/freight-templates/{id}", Tag: tag, Access: httpx.Staff, Perm: write,
		Errors:  map[int][]string{404: {"freight_template_not_found"}, 409: {"freight_template_in_use"}},
		Summary: "Delete a freight template no product uses", Status: http.StatusNoContent, Handler: h.delete})
}

func (h *Handlers) list(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	list, err := h.Svc.List(r.Context(), auth.StaffShop(r.Context()), after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, func(t Template) int64 { return t.ID }), err)
}

func (h *Handlers) create(w http.ResponseWriter, r *http.Request) error {
	var in Input
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	t, err := h.Svc.Create(r.Context(), auth.StaffShop(r.Context()), in)
	return httpx.Respond(w, http.StatusCreated, t, err)
}

func (h *Handlers) get(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	t, err := h.Svc.Get(r.Context(), auth.StaffShop(r.Context()), id)
	return httpx.Respond(w, http.StatusOK, t, err)
}

func (h *Handlers) update(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in Input
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	t, err := h.Svc.Update(r.Context(), auth.StaffShop(r.Context()), id, in)
	return httpx.Respond(w, http.StatusOK, t, err)
}

func (h *Handlers) delete(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.Svc.Delete(r.Context(), auth.StaffShop(r.Context()), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
