package events

import (
	"net/http"
	"strconv"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves the batch endpoint and the staff's questions.
type Handlers struct {
	Svc      *Service
	ClientIP func(*http.Request) string
}

var retentionParams = []httpx.Param{
	{Name: "cohort_event", Type: "string", Description: "the event whose first occurrence puts a member in a cohort (signup: by signup day)"},
	{Name: "return_event", Type: "string", Description: "the event that counts as coming back"},
	{Name: "period", Type: "string", Description: "day (default) or week (7 days from from)", Enum: []string{ByDay, ByWeek}},
	{Name: "from", Type: "string", Description: "first cohort day, YYYY-MM-DD (Asia/Shanghai)"},
	{Name: "to", Type: "string", Description: "last cohort day, YYYY-MM-DD"},
	{Name: "periods", Type: "integer", Description: "periods after the cohort's, 1 to 90 (default 30)"},
}

// Routes registers the event routes.
func (h *Handlers) Routes(api *httpx.API) {
	const admin = "admin: analytics"
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/events", Tag: "mini: analytics", Access: httpx.Member, HotAuth: true,
		RateLimited: true, BodyLimit: MaxBatchBytes,
		Errors: map[int][]string{400: {"invalid_batch_size", "batch_rejected"}},
		Summary: "Report a batch of 1 to 100 events (page views, taps, shares, searches…). Good events are stored even when others are refused " +
			"(listed by index with a code); an event_id stored before is counted as a duplicate. Times: the server's clock wins when the client's " +
			"is off by more than a minute; more than a day ahead or 7 days old is refused",
		Request: Batch{}, Response: Result{}, Handler: h.ingest})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/events/anonymous", Tag: "mini: analytics", Access: httpx.Shop,
		RateLimited: true, BodyLimit: MaxBatchBytes,
		Errors:  map[int][]string{400: {"invalid_batch_size", "batch_rejected"}},
		Summary: "Report a batch of events before login (the shop from the appid): as POST /api/v1/events, each event with its anonymous_id (the device's id); rate-limited per address",
		Request: Batch{}, Response: Result{}, Handler: h.ingestAnonymous})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/analytics/funnels", Tag: admin, Access: httpx.Staff, Perm: auth.PermAnalyticsRead,
		Errors:  map[int][]string{400: {"invalid_steps", "invalid_window", "invalid_order", "duplicate_steps", "invalid_range"}},
		Summary: "A funnel: members entering with step 1 in [from, to] (the range limits entry only), each step within the window from step 1; conversion, median time per step, and attempts still inside their window as in progress",
		Request: FunnelQuery{}, Response: Funnel{}, Handler: h.funnel})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/analytics/retention", Tag: admin, Access: httpx.Staff, Perm: auth.PermAnalyticsRead,
		Errors:  map[int][]string{400: {"invalid_event_name", "invalid_period", "invalid_periods", "invalid_range"}},
		Summary: "A retention grid: cohorts by the day (or week) of each member's first cohort_event, the share doing return_event in each later period; cells of periods not yet ended are null",
		Query:   retentionParams, Response: Retention{}, Handler: h.retention})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/analytics/unknown-events", Tag: admin, Access: httpx.Staff, Perm: auth.PermAnalyticsRead,
		Summary: "Event names the mini program sent that kaidian does not declare (stored anyway), the newest first",
		Query:   httpx.PageParams(), Response: httpx.Page[UnknownName]{}, Handler: h.unknown})
}

func (h *Handlers) ingest(w http.ResponseWriter, r *http.Request) error {
	var raw rawBatch
	if err := httpx.Decode(w, r, &raw, MaxBatchBytes); err != nil {
		return err
	}
	m, _ := auth.MemberFrom(r.Context())
	addr := ""
	if h.ClientIP != nil {
		addr = h.ClientIP(r)
	}
	res, err := h.Svc.Ingest(r.Context(), m.ShopID, m.ID, addr, raw)
	return httpx.Respond(w, http.StatusOK, res, err)
}

func (h *Handlers) ingestAnonymous(w http.ResponseWriter, r *http.Request) error {
	var raw rawBatch
	if err := httpx.Decode(w, r, &raw, MaxBatchBytes); err != nil {
		return err
	}
	addr := "unknown"
	if h.ClientIP != nil {
		addr = h.ClientIP(r)
	}
	res, err := h.Svc.Ingest(r.Context(), auth.ShopFrom(r.Context()), 0, addr, raw)
	return httpx.Respond(w, http.StatusOK, res, err)
}

func (h *Handlers) funnel(w http.ResponseWriter, r *http.Request) error {
	var q FunnelQuery
	if err := httpx.Decode(w, r, &q, 0); err != nil {
		return err
	}
	f, err := h.Svc.Funnel(r.Context(), auth.StaffShop(r.Context()), q)
	return httpx.Respond(w, http.StatusOK, f, err)
}

func (h *Handlers) retention(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	q := RetentionQuery{CohortEvent: v.Get("cohort_event"), ReturnEvent: v.Get("return_event"), Period: v.Get("period"),
		From: v.Get("from"), To: v.Get("to"), Periods: 30}
	if p := v.Get("periods"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return errs.Field("periods", "invalid_periods", "periods is a number")
		}
		q.Periods = n
	}
	g, err := h.Svc.Retention(r.Context(), auth.StaffShop(r.Context()), q)
	return httpx.Respond(w, http.StatusOK, g, err)
}

func (h *Handlers) unknown(w http.ResponseWriter, r *http.Request) error {
	before, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	items, err := h.Svc.ListUnknown(r.Context(), auth.StaffShop(r.Context()), before, limit+1)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, httpx.PageOf(items, limit, func(u UnknownName) int64 { return u.ID }))
	return nil
}
