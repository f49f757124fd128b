package privacy

import (
	"math"
	"net/http"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves the privacy routes.
type Handlers struct {
	Svc      *Service
	ClientIP func(*http.Request) string
}

// Routes registers the routes.
func (h *Handlers) Routes(api *httpx.API) {
	const mini, admin = "mini program: privacy", "admin: privacy"
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/privacy/policies", Tag: mini, Access: httpx.Shop,
		Summary: "The shop's privacy policy and user agreement in force (version and address): the whole list, not a page", Response: []Policy{}, Handler: h.policies})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/consents", Tag: mini, Access: httpx.Member,
		Summary: "Where I stand on the privacy policy, the user agreement and marketing: the whole list, not a page", Response: []ConsentState{}, Handler: h.consents})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/me/consents", Tag: mini, Access: httpx.Member,
		Summary: "Give or withdraw a consent (withdrawing marketing stops campaigns to me; withdrawing a policy logs me out); answers where I stand on each kind: the whole list, not a page",
		Errors:  map[int][]string{400: {"invalid_kind"}, 409: {"no_policy", "stale_version", "account_deleted"}},
		Request: ConsentInput{}, Response: []ConsentState{}, Handler: h.record})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/data-export", Tag: mini, Access: httpx.Member,
		Summary: "Download everything the shop holds on me (a zip of JSON files; three a day)", Produces: "application/zip",
		Errors: map[int][]string{409: {"account_deleted"}, 429: {"too_many_exports"}}, Handler: h.export})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/me/deletion", Tag: mini, Access: httpx.Member,
		Summary: "Delete my account (注销): at once, or when my open orders, after-sales, refunds and payouts have ended (status waiting)",
		Errors:  map[int][]string{409: {"account_deleted"}}, Response: MyRequest{}, Handler: h.deletion})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/privacy-requests", Tag: mini, Access: httpx.Member,
		Summary: "My export and deletion requests, newest first: the whole list (at most 50), not a page", Response: []MyRequest{}, Handler: h.mine})

	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/privacy/policies", Tag: admin, Access: httpx.Staff, Perm: auth.PermPrivacy,
		Summary: "The privacy policy and user agreement in force: the whole list, not a page", Response: []Policy{}, Handler: h.policies})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/privacy/policies", Tag: admin, Access: httpx.Staff, Perm: auth.PermPrivacy,
		Summary: "Publish a new version of the privacy policy or the user agreement (members are asked again)",
		Errors:  map[int][]string{400: {"invalid_fields"}}, Request: Policy{}, Response: Policy{}, Handler: h.publish})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/retention", Tag: admin, Access: httpx.Staff, Perm: auth.PermPrivacy,
		Summary: "How long the shop keeps each kind of data and the last daily pruning", Response: Retention{}, Handler: h.retention})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/retention", Tag: admin, Access: httpx.Staff, Perm: auth.PermPrivacy,
		Summary: "Set how long raw analytics events are kept (30 to 1095 days)", Errors: map[int][]string{400: {"invalid_days"}},
		Request: retentionInput{}, Response: Retention{}, Handler: h.setRetention})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/privacy-requests", Tag: admin, Access: httpx.Staff, Perm: auth.PermPrivacy,
		Summary: "Members' export and deletion requests with their deadlines (15 working days), newest first",
		Query:   httpx.PageParams(httpx.Param{Name: "status", Type: "string", Enum: []string{"waiting", "done"}}),
		Errors:  map[int][]string{400: {"invalid_status"}}, Response: httpx.Page[Request]{}, Handler: h.requests})
}

func (h *Handlers) policies(w http.ResponseWriter, r *http.Request) error {
	out, err := h.Svc.Policies(r.Context(), shopOf(r))
	return httpx.Respond(w, http.StatusOK, out, err)
}

// shopOf is the shop of whoever calls: the buyer's, the app's or staff's.
func shopOf(r *http.Request) int64 {
	if st, ok := auth.StaffFrom(r.Context()); ok {
		return st.ShopID
	}
	return auth.ShopFrom(r.Context())
}

func me(r *http.Request) auth.Member {
	m, _ := auth.MemberFrom(r.Context())
	return m
}

func (h *Handlers) consents(w http.ResponseWriter, r *http.Request) error {
	m := me(r)
	out, err := h.Svc.Consents(r.Context(), m.ShopID, m.ID)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) record(w http.ResponseWriter, r *http.Request) error {
	var in ConsentInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	m := me(r)
	out, err := h.Svc.Record(r.Context(), m.ShopID, m.ID, in, h.ClientIP(r))
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) export(w http.ResponseWriter, r *http.Request) error {
	m := me(r)
	// Checked before the first byte: an error after it could not be sent.
	if err := h.Svc.startExport(r.Context(), m.ShopID, m.ID); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="my-data.zip"`)
	_ = h.Svc.writeExport(r.Context(), m.ShopID, m.ID, w) // a failure now cuts the file short; the zip is then unreadable
	return nil
}

func (h *Handlers) deletion(w http.ResponseWriter, r *http.Request) error {
	m := me(r)
	out, err := h.Svc.RequestDeletion(r.Context(), m.ShopID, m.ID)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) mine(w http.ResponseWriter, r *http.Request) error {
	m := me(r)
	out, err := h.Svc.MyRequests(r.Context(), m.ShopID, m.ID)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) publish(w http.ResponseWriter, r *http.Request) error {
	var in Policy
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	out, err := h.Svc.Publish(r.Context(), auth.StaffShop(r.Context()), in)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) requests(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	if after == 0 {
		after = math.MaxInt64
	}
	status := r.URL.Query().Get("status")
	if status != "" && status != "waiting" && status != "done" {
		return errs.Field("status", "invalid_status", "status is waiting or done")
	}
	rows, err := h.Svc.Requests(r.Context(), auth.StaffShop(r.Context()), status, after, limit+1)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(rows, limit, func(q Request) int64 { return q.ID }), err)
}

type retentionInput struct {
	AnalyticsEventsDays int `json:"analytics_events_days"`
}

func (h *Handlers) retention(w http.ResponseWriter, r *http.Request) error {
	out, err := h.Svc.Retention(r.Context(), auth.StaffShop(r.Context()))
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) setRetention(w http.ResponseWriter, r *http.Request) error {
	var in retentionInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	out, err := h.Svc.SetAnalyticsDays(r.Context(), auth.StaffShop(r.Context()), in.AnalyticsEventsDays)
	return httpx.Respond(w, http.StatusOK, out, err)
}
