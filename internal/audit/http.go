package audit

import (
	"encoding/csv"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/chinaday"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves the audit log to owners and operators.
type Handlers struct{ Svc *Service }

// exportCap bounds one CSV export; narrow the dates for more.
const exportCap = 100_000

// Routes registers the routes.
func (h *Handlers) Routes(api *httpx.API) {
	const tag = "admin: audit log"
	query := []httpx.Param{
		{Name: "actor", Description: "a username, exactly"},
		{Name: "q", Description: "text in the action or the path, e.g. refunds or PATCH"},
		{Name: "from", Description: "first day, YYYY-MM-DD (Asia/Shanghai)"},
		{Name: "to", Description: "last day, YYYY-MM-DD (Asia/Shanghai), included"},
	}
	bad := map[int][]string{400: {"invalid_date", "too_long"}}
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/audit-log", Tag: tag, Access: httpx.Staff, Perm: auth.PermAudit,
		Summary: "The shop's audit log, newest first: every staff change and export with who, when, from where, before and after",
		Query:   httpx.PageParams(query...), Errors: bad, Response: httpx.Page[Entry]{}, Handler: h.list(false)})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/audit-log.csv", Tag: tag, Access: httpx.Staff, Perm: auth.PermAudit,
		Summary: "The shop's audit log as CSV (UTF-8 with BOM, newest first, at most 100,000 records: narrow the dates for more)",
		Query:   query, Errors: bad, Produces: "text/csv", Handler: h.export(false)})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/operator/audit-log", Tag: tag, Access: httpx.Staff, Perm: auth.PermShops,
		Summary: "The deployment's own audit log (operators acting without a shop, logins), newest first",
		Query:   httpx.PageParams(query...), Errors: bad, Response: httpx.Page[Entry]{}, Handler: h.list(true)})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/operator/audit-log/verify", Tag: tag, Access: httpx.Staff, Perm: auth.PermShops,
		Summary: "Check the whole chain of the audit log now (as `kaidian audit verify` does)", Response: Report{}, Handler: h.verify})
}

func (h *Handlers) filter(r *http.Request, deployment bool) (Filter, error) {
	q := r.URL.Query()
	f := Filter{Actor: q.Get("actor"), Contains: q.Get("q")}
	if len(f.Actor) > 64 || len(f.Contains) > 200 {
		return f, errs.Field("q", "too_long", "actor is at most 64 bytes and q at most 200")
	}
	if !deployment {
		f.ShopID = auth.StaffShop(r.Context())
	}
	var err error
	if f.From, err = dayParam(q.Get("from"), 0); err != nil {
		return f, err
	}
	f.To, err = dayParam(q.Get("to"), 1)
	return f, err
}

// dayParam is the start of day s (plus offset days) in Asia/Shanghai.
func dayParam(s string, offset int) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	d, ok := chinaday.Parse(s)
	if !ok {
		return time.Time{}, errs.Field("from", "invalid_date", "from and to are dates, YYYY-MM-DD")
	}
	return (d + chinaday.Day(offset)).Date(), nil
}

func (h *Handlers) list(deployment bool) httpx.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		after, limit, err := httpx.PageQuery(r)
		if err != nil {
			return err
		}
		if after == 0 {
			after = math.MaxInt64
		}
		f, err := h.filter(r, deployment)
		if err != nil {
			return err
		}
		rows, err := h.Svc.Search(r.Context(), f, after, limit+1)
		return httpx.Respond(w, http.StatusOK, httpx.PageOf(rows, limit, func(e Entry) int64 { return e.ID }), err)
	}
}

func (h *Handlers) export(deployment bool) httpx.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		f, err := h.filter(r, deployment)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="audit-log.csv"`)
		_, _ = w.Write([]byte("\uFEFF")) // Excel reads UTF-8 only with the BOM
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"id", "seq", "at", "actor_id", "actor", "role", "addr", "action", "target", "status", "request", "before", "after", "request_id"})
		before, written := int64(math.MaxInt64), 0
		for written < exportCap {
			rows, err := h.Svc.Search(r.Context(), f, before, 1000)
			if err != nil {
				return nil // the answer has started: cut it short rather than send an error into the file
			}
			for _, e := range rows {
				_ = cw.Write([]string{strconv.FormatInt(e.ID, 10), strconv.FormatInt(e.Seq, 10), e.At.Format(time.RFC3339),
					strconv.FormatInt(e.ActorID, 10), csvSafe(e.Actor), e.Role, e.Addr, e.Action, csvSafe(e.Target), strconv.Itoa(e.Status),
					csvSafe(e.Request), csvSafe(e.Before), csvSafe(e.After), e.RequestID})
				before = e.ID
			}
			written += len(rows)
			if len(rows) < 1000 {
				break
			}
		}
		cw.Flush()
		return nil
	}
}

// csvSafe keeps a spreadsheet from reading a value as a formula.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}

func (h *Handlers) verify(w http.ResponseWriter, r *http.Request) error {
	rep, err := h.Svc.Verify(r.Context())
	return httpx.Respond(w, http.StatusOK, rep, err)
}
