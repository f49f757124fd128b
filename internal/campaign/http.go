package campaign

import (
	"net/http"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves campaigns to staff.
type Handlers struct{ Svc *Service }

// Routes registers the routes.
func (h *Handlers) Routes(api *httpx.API) {
	const tag = "admin: campaigns"
	notFound := map[int][]string{404: {"campaign_not_found"}}
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/campaigns", Tag: tag, Access: httpx.Staff, Perm: auth.PermPromotionsRead,
		Query: httpx.PageParams(), Summary: "The shop's campaigns, newest first", Response: httpx.Page[Campaign]{}, Handler: h.list})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/campaigns", Tag: tag, Access: httpx.Staff, Perm: auth.PermPromotionsManage,
		Status: http.StatusCreated, Errors: map[int][]string{404: {"segment_not_found"}},
		Summary: "Save a draft campaign: a message to a segment's members, with frequency caps, quiet hours and a pace",
		Request: Input{}, Response: Campaign{}, Handler: h.create})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/campaigns/{id}", Tag: tag, Access: httpx.Staff, Perm: auth.PermPromotionsRead,
		Errors: notFound, Summary: "A campaign with its results: members queued and skipped, its messages by state and channel",
		Response: Results{}, Handler: h.get})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/campaigns/{id}/dry-run", Tag: tag, Access: httpx.Staff, Perm: auth.PermPromotionsRead,
		Errors: notFound, Summary: "Count who would get the campaign now (members, opted out, at a cap), sending nothing",
		Response: DryRun{}, Handler: h.dryRun})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/campaigns/{id}/start", Tag: tag, Access: httpx.Staff, Perm: auth.PermPromotionsManage,
		Errors:  map[int][]string{404: {"campaign_not_found"}, 409: {"campaign_not_draft"}},
		Summary: "Start a draft: it runs from its start time, outside quiet hours, at its pace", Response: Campaign{}, Handler: h.start})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/campaigns/{id}/cancel", Tag: tag, Access: httpx.Staff, Perm: auth.PermPromotionsManage,
		Errors:  map[int][]string{404: {"campaign_not_found"}, 409: {"campaign_finished"}},
		Summary: "Stop a campaign: no more members are queued (messages queued already still go)", Response: Campaign{}, Handler: h.cancel})
}

func (h *Handlers) list(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	list, err := h.Svc.List(r.Context(), st.ShopID, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, func(c Campaign) int64 { return c.ID }), err)
}

func (h *Handlers) create(w http.ResponseWriter, r *http.Request) error {
	var in Input
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	out, err := h.Svc.Create(r.Context(), st.ShopID, in)
	return httpx.Respond(w, http.StatusCreated, out, err)
}

// withID runs fn with the path's {id} and the staff's shop.
func withID[T any](w http.ResponseWriter, r *http.Request, fn func(shopID, id int64) (T, error)) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	out, err := fn(st.ShopID, id)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) get(w http.ResponseWriter, r *http.Request) error {
	return withID(w, r, func(shopID, id int64) (Results, error) { return h.Svc.ResultsOf(r.Context(), shopID, id) })
}

func (h *Handlers) dryRun(w http.ResponseWriter, r *http.Request) error {
	return withID(w, r, func(shopID, id int64) (DryRun, error) { return h.Svc.DryRunOf(r.Context(), shopID, id) })
}

func (h *Handlers) start(w http.ResponseWriter, r *http.Request) error {
	return withID(w, r, func(shopID, id int64) (Campaign, error) { return h.Svc.Start(r.Context(), shopID, id) })
}

func (h *Handlers) cancel(w http.ResponseWriter, r *http.Request) error {
	return withID(w, r, func(shopID, id int64) (Campaign, error) { return h.Svc.Cancel(r.Context(), shopID, id) })
}
