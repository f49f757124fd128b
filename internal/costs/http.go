package costs

import (
	"net/http"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves the cost ledger routes.
type Handlers struct{ Svc *Service }

// Routes registers the routes.
func (h *Handlers) Routes(api *httpx.API) {
	const tag = "admin: costs and renewals"
	bad := []string{"invalid_kind", "invalid_name", "too_long", "invalid_cost", "invalid_renews", "invalid_day"}
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/cost-items", Tag: tag, Access: httpx.Staff, Perm: auth.PermCosts,
		Summary: "What the shop pays for again and again, soonest due first: the whole ledger (at most 200 items), not a page", Response: []Item{}, Handler: h.list})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/cost-items", Tag: tag, Access: httpx.Staff, Perm: auth.PermCosts,
		Summary: "Add a recurring cost (reminders 30, 7 and 1 days before it is due)", Errors: map[int][]string{400: bad, 409: {"too_many_items"}},
		Request: Item{}, Response: Item{}, Status: http.StatusCreated, Handler: h.create})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/cost-items/{id}", Tag: tag, Access: httpx.Staff, Perm: auth.PermCosts,
		Summary: "Change a cost item", Errors: map[int][]string{400: bad, 404: {"cost_item_not_found"}},
		Request: Item{}, Response: Item{}, Handler: h.update})
	api.Add(httpx.Route{Method: "DELETE", Path: "/admin/api/v1/cost-items/{id}", Tag: tag, Access: httpx.Staff, Perm: auth.PermCosts,
		Summary: "Remove a cost item", Errors: map[int][]string{404: {"cost_item_not_found"}}, Status: http.StatusNoContent, Handler: h.delete})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/cost-items/{id}/renewed", Tag: tag, Access: httpx.Staff, Perm: auth.PermCosts,
		Summary: "Record a renewal: the due day moves a year (or a month) on", Errors: map[int][]string{404: {"cost_item_not_found"}, 409: {"not_renewable", "changed"}},
		Response: Item{}, Handler: h.renewed})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/cost-report", Tag: tag, Access: httpx.Staff, Perm: auth.PermCosts,
		Summary: "The year's costs: the items' costs in the year and the third-party calls kaidian made, by month",
		Query:   []httpx.Param{{Name: "year", Type: "integer", Description: "e.g. 2026"}},
		Errors:  map[int][]string{400: {"invalid_year"}}, Response: YearReport{}, Handler: h.report})
}

func (h *Handlers) list(w http.ResponseWriter, r *http.Request) error {
	items, err := h.Svc.List(r.Context(), auth.StaffShop(r.Context()))
	return httpx.Respond(w, http.StatusOK, items, err)
}

func (h *Handlers) create(w http.ResponseWriter, r *http.Request) error {
	var in Item
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	it, err := h.Svc.Create(r.Context(), auth.StaffShop(r.Context()), in)
	return httpx.Respond(w, http.StatusCreated, it, err)
}

func (h *Handlers) update(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in Item
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	it, err := h.Svc.Update(r.Context(), auth.StaffShop(r.Context()), id, in)
	return httpx.Respond(w, http.StatusOK, it, err)
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

func (h *Handlers) renewed(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	it, err := h.Svc.Renewed(r.Context(), auth.StaffShop(r.Context()), id)
	return httpx.Respond(w, http.StatusOK, it, err)
}

func (h *Handlers) report(w http.ResponseWriter, r *http.Request) error {
	rep, err := h.Svc.Report(r.Context(), auth.StaffShop(r.Context()), r.URL.Query().Get("year"))
	return httpx.Respond(w, http.StatusOK, rep, err)
}
