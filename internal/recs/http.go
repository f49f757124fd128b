package recs

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
	"github.com/kaidian/kaidian/internal/platform/jobs"
)

// Handlers serves recommendations to buyers and their settings to staff.
type Handlers struct{ Svc *Service }

// Routes registers the recommendation routes.
func (h *Handlers) Routes(api *httpx.API) {
	const mini, admin = "mini: recommendations", "admin: recommendations"
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/products/{id}/recommendations", Tag: mini, Access: httpx.Shop,
		Errors:   map[int][]string{404: {"product_not_found"}},
		Summary:  "Products to show with a product: bought together, also bought, then popular in its category and in the shop (a logged-in buyer is not shown what they bought lately)",
		Response: Recommendations{}, Handler: h.forProduct})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/recommendations", Tag: mini, Access: httpx.Member,
		Summary:  "Recommendations for me, from what I bought and viewed, then popular products",
		Response: Recommendations{}, Handler: h.forMember})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/recently-viewed", Tag: mini, Access: httpx.Member,
		Summary:  "Products I viewed lately that are still on the shelf, newest first (at most 50)",
		Response: RecentlyViewed{}, Handler: h.recentlyViewed})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/recommendation-settings", Tag: admin, Access: httpx.Staff, Perm: auth.PermCatalogRead,
		Summary: "The shop's recommendation settings", Response: Settings{}, Handler: h.settings})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/recommendation-settings", Tag: admin, Access: httpx.Staff, Perm: auth.PermCatalogWrite,
		Summary: "Change the shop's recommendation settings (the model is rebuilt with them in the background)",
		Request: Settings{}, Response: Settings{}, Handler: h.setSettings})
}

func (h *Handlers) forProduct(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var memberID int64
	if m, ok := auth.MemberFrom(r.Context()); ok {
		memberID = m.ID
	}
	out, err := h.Svc.ForProduct(r.Context(), auth.ShopFrom(r.Context()), memberID, id)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) forMember(w http.ResponseWriter, r *http.Request) error {
	m, _ := auth.MemberFrom(r.Context())
	out, err := h.Svc.ForMember(r.Context(), m.ShopID, m.ID)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) recentlyViewed(w http.ResponseWriter, r *http.Request) error {
	m, _ := auth.MemberFrom(r.Context())
	out, err := h.Svc.RecentlyViewed(r.Context(), m.ShopID, m.ID)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) settings(w http.ResponseWriter, r *http.Request) error {
	st, err := h.Svc.Settings(r.Context(), auth.StaffShop(r.Context()))
	return httpx.Respond(w, http.StatusOK, st, err)
}

func (h *Handlers) setSettings(w http.ResponseWriter, r *http.Request) error {
	var in Settings
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, err := h.Svc.SetSettings(r.Context(), auth.StaffShop(r.Context()), in)
	return httpx.Respond(w, http.StatusOK, st, err)
}

// RebuildEvery is how often the cluster rebuilds every shop's model.
const RebuildEvery = time.Hour

// RegisterJobs sets the periodic rebuild (once per cluster) and the
// rebuild of one shop after its settings changed.
func (s *Service) RegisterJobs(q *jobs.Queue) {
	q.Every(RebuildAllKind, RebuildEvery, func(ctx context.Context, _ jobs.Job) error { return s.RebuildAll(ctx) })
	q.Handle(RebuildKind, func(ctx context.Context, j jobs.Job) error {
		var p rebuildPayload
		if err := json.Unmarshal(j.Payload, &p); err != nil {
			return err
		}
		_, err := s.Rebuild(ctx, p.ShopID)
		return err
	})
}
