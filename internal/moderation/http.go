package moderation

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves moderation to buyers, complainants and staff.
type Handlers struct {
	Svc *Service
	// Check counts a request against a limit and says how long to wait
	// when it is over (ratelimit.Limiter.Check); nil = no limits. ClientIP
	// names the caller's address.
	Check    func(ctx context.Context, key string, limit int, window time.Duration) (time.Duration, error)
	ClientIP func(r *http.Request) string
}

// Limits on what buyers and visitors can send.
const (
	submissionsPerMinute = 20 // per buyer
	complaintsPerHour    = 10 // per address
)

// limit counts one request under key and refuses it over the limit, with
// the limiter's wait as Retry-After.
func (h *Handlers) limit(ctx context.Context, key string, n int, window time.Duration) error {
	if h.Check == nil {
		return nil
	}
	wait, err := h.Check(ctx, key, n, window)
	if err != nil {
		return errs.Wrap("rate limit", err)
	}
	if wait > 0 {
		return errs.TooMany("too_many_requests", "too many submissions; try again after Retry-After seconds", wait)
	}
	return nil
}

type reasonBody struct {
	Reason string `json:"reason"`
}

type noteBody struct {
	Note string `json:"note"`
}

type checkBody struct {
	Text string `json:"text"`
}

// CheckResult is the rules' verdict on a text.
type CheckResult struct {
	Verdict string      `json:"verdict" enum:"pass,review,block" doc:"pass, review or block"`
	Matches []MatchView `json:"matches"`
}

var (
	scopeParam  = httpx.Param{Name: "scope", Type: "string", Description: "shop (default), or base / operator (operators only)"}
	formatParam = httpx.Param{Name: "format", Type: "string", Description: "text (word<TAB>category<TAB>level[<TAB>forms] per line, default) or csv"}
	pageParams  = httpx.PageParams()
)

// Routes registers the moderation routes.
func (h *Handlers) Routes(api *httpx.API) {
	h.miniRoutes(api)
	h.ruleRoutes(api)
	h.queueRoutes(api)
	h.complaintRoutes(api)
}

func (h *Handlers) miniRoutes(api *httpx.API) {
	const tag = "mini: content"
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/contents", Tag: tag, Access: httpx.Member, Status: http.StatusCreated, RateLimited: true,
		Summary: "Submit a comment, review, nickname or post: published, held for review, or refused with 422 content_blocked",
		Request: NewItem{}, Response: MyItem{}, Handler: h.submit})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/contents", Tag: tag, Access: httpx.Shop,
		Summary: "Published content about a target, newest first", Response: httpx.Page[PublicItem]{},
		Query: httpx.PageParams(httpx.Param{Name: "target", Type: "string", Description: "e.g. product:12"}), Handler: h.published})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/complaints", Tag: tag, Access: httpx.Shop, Status: http.StatusCreated, RateLimited: true,
		Summary: "File a copyright complaint against published content (staff decide within 24 hours)",
		Request: NewComplaint{}, Response: Complaint{}, Handler: h.fileComplaint})
}

func (h *Handlers) ruleRoutes(api *httpx.API) {
	const tag = "admin: moderation rules"
	read, manage := auth.PermModerationRead, auth.PermModerationManage
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/moderation/rules", Tag: tag, Access: httpx.Staff, Perm: read,
		Summary: "Rules of a scope, oldest first", Query: httpx.PageParams(scopeParam), Response: httpx.Page[Rule]{}, Handler: h.listRules})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/moderation/rules", Errors: map[int][]string{400: {"invalid_rule"}}, Tag: tag, Access: httpx.Staff, Perm: manage, Status: http.StatusCreated,
		Summary: "Add a rule (replaces one with the same word); in effect on every server within seconds", Request: NewRule{}, Response: Rule{}, Handler: h.addRule})
	api.Add(httpx.Route{Method: "DELETE", Path: "/admin/api/v1/moderation/rules/{id}", Tag: tag, Access: httpx.Staff, Perm: manage, Status: http.StatusNoContent,
		Summary: "Delete a rule", Query: []httpx.Param{scopeParam}, Handler: h.deleteRule})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/moderation/rules/import", Errors: map[int][]string{400: {"invalid_rule_file", "empty_rule_file"}}, Tag: tag, Access: httpx.Staff, Perm: manage,
		Summary: "Import a rule file (text/plain or text/csv body; all or nothing; every bad line reported)", BodyLimit: MaxImportBytes + 1,
		Query:    []httpx.Param{scopeParam, formatParam, {Name: "replace", Type: "boolean", Description: "delete the scope's rules first"}},
		Response: ImportResult{}, Handler: h.importRules})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/moderation/rules/export", Tag: tag, Access: httpx.Staff, Perm: read,
		Summary: "Export a scope's rules as a rule file", Query: []httpx.Param{scopeParam, formatParam}, Handler: h.exportRules})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/moderation/check", Tag: tag, Access: httpx.Staff, Perm: read,
		Summary: "The rules' verdict on a text, with every match", Request: checkBody{}, Response: CheckResult{}, Handler: h.check})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/moderation/settings", Tag: tag, Access: httpx.Staff, Perm: read,
		Summary: "The shop's moderation settings", Response: Settings{}, Handler: h.getSettings})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/moderation/settings", Tag: tag, Access: httpx.Staff, Perm: manage,
		Summary: "Change the shop's moderation settings", Request: Settings{}, Response: Settings{}, Handler: h.putSettings})
}

func (h *Handlers) queueRoutes(api *httpx.API) {
	const tag = "admin: moderation queue"
	read, manage := auth.PermModerationRead, auth.PermModerationManage
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/moderation/items", Tag: tag, Access: httpx.Staff, Perm: read,
		Summary: "Submitted content, newest first (status=pending is the review queue)", Response: httpx.Page[Item]{},
		Query: httpx.PageParams(httpx.Param{Name: "status", Type: "string", Enum: []string{Published, Pending, Rejected, Removed}},
			httpx.Param{Name: "target", Type: "string", Description: "e.g. product:12"}), Handler: h.listItems})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/moderation/items/{id}", Tag: tag, Access: httpx.Staff, Perm: read,
		Summary: "One piece of content with its matches", Response: Item{}, Handler: h.getItem})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/moderation/items/{id}/approve", Tag: tag, Access: httpx.Staff, Perm: manage,
		Summary: "Publish held content", Response: Item{}, Handler: h.approve})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/moderation/items/{id}/reject", Errors: map[int][]string{400: {"reason_required"}}, Tag: tag, Access: httpx.Staff, Perm: manage,
		Summary: "Reject held or published content with a reason", Request: reasonBody{}, Response: Item{}, Handler: h.reject})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/moderation/items/{id}/ban", Errors: map[int][]string{400: {"reason_required"}}, Tag: tag, Access: httpx.Staff, Perm: manage,
		Summary: "Reject the content and ban its author from posting for some days", Request: BanInput{}, Response: Item{}, Handler: h.ban})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/moderation/bans", Tag: tag, Access: httpx.Staff, Perm: read,
		Summary: "Bans still in force, newest first", Query: pageParams, Response: httpx.Page[Ban]{}, Handler: h.bans})
	api.Add(httpx.Route{Method: "DELETE", Path: "/admin/api/v1/moderation/bans/{id}", Tag: tag, Access: httpx.Staff, Perm: manage, Status: http.StatusNoContent,
		Summary: "Lift a ban now", Handler: h.liftBan})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/moderation/decisions", Tag: tag, Access: httpx.Staff, Perm: read,
		Summary: "The decision log, newest first", Query: pageParams, Response: httpx.Page[Decision]{}, Handler: h.decisions})
}

func (h *Handlers) complaintRoutes(api *httpx.API) {
	const tag = "admin: copyright complaints"
	read, manage := auth.PermModerationRead, auth.PermModerationManage
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/moderation/complaints", Tag: tag, Access: httpx.Staff, Perm: read,
		Summary: "Complaints: open ones by deadline first", Response: httpx.Page[Complaint]{},
		Query: httpx.PageParams(httpx.Param{Name: "status", Type: "string", Description: "open, taken_down or rejected"},
			httpx.Param{Name: "overdue", Type: "boolean", Description: "only those past their deadline"}), Handler: h.listComplaints})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/moderation/complaints/{id}/take-down", Tag: tag, Access: httpx.Staff, Perm: manage,
		Summary: "Uphold the complaint: the content is removed", Request: noteBody{}, Response: Complaint{}, Handler: h.takeDown})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/moderation/complaints/{id}/reject", Errors: map[int][]string{400: {"reason_required"}}, Tag: tag, Access: httpx.Staff, Perm: manage,
		Summary: "Reject the complaint with a reason", Request: reasonBody{}, Response: Complaint{}, Handler: h.rejectComplaint})
}

func (h *Handlers) submit(w http.ResponseWriter, r *http.Request) error {
	var in NewItem
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	m, _ := auth.MemberFrom(r.Context())
	if err := h.limit(r.Context(), "content:member:"+strconv.FormatInt(m.ID, 10), submissionsPerMinute, time.Minute); err != nil {
		return err
	}
	it, err := h.Svc.Submit(r.Context(), m.ShopID, m.ID, in)
	return httpx.Respond(w, http.StatusCreated, it.mine(), err)
}

func (h *Handlers) published(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	items, err := h.Svc.ListItems(r.Context(), auth.ShopFrom(r.Context()), ItemQuery{Status: Published, Target: r.URL.Query().Get("target"), After: after, Limit: limit + 1})
	page := httpx.PageOf(items, limit, itemID)
	public := make([]PublicItem, len(page.Items))
	for i, it := range page.Items {
		public[i] = it.public()
	}
	return httpx.Respond(w, http.StatusOK, httpx.Page[PublicItem]{Items: public, NextCursor: page.NextCursor}, err)
}

func (h *Handlers) fileComplaint(w http.ResponseWriter, r *http.Request) error {
	var in NewComplaint
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	if h.ClientIP != nil {
		if err := h.limit(r.Context(), "complaint:ip:"+h.ClientIP(r), complaintsPerHour, time.Hour); err != nil {
			return err
		}
	}
	c, err := h.Svc.FileComplaint(r.Context(), auth.ShopFrom(r.Context()), in)
	c.Contact = ""
	return httpx.Respond(w, http.StatusCreated, c, err)
}

// scope returns the request's rule scope (query parameter scope).
func scope(r *http.Request) (string, error) {
	sc := r.URL.Query().Get("scope")
	return sc, scopeAllowed(r, sc)
}

// scopeAllowed keeps the shared lists to operators.
func scopeAllowed(r *http.Request, sc string) error {
	if sc == ScopeBase || sc == ScopeOperator {
		if st, _ := auth.StaffFrom(r.Context()); st.Role != auth.RoleOperator {
			return errs.E(errs.Forbidden, "operator_only", "only operators see and change the shared rule lists")
		}
	}
	return nil
}

func (h *Handlers) listRules(w http.ResponseWriter, r *http.Request) error {
	sc, err := scope(r)
	if err != nil {
		return err
	}
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	rules, err := h.Svc.ListRules(r.Context(), auth.StaffShop(r.Context()), sc, after, limit+1)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(rules, limit, func(x Rule) int64 { return x.ID }), err)
}

func (h *Handlers) addRule(w http.ResponseWriter, r *http.Request) error {
	var in NewRule
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	if err := scopeAllowed(r, in.Scope); err != nil {
		return err
	}
	rule, err := h.Svc.AddRule(r.Context(), auth.StaffShop(r.Context()), in)
	return httpx.Respond(w, http.StatusCreated, rule, err)
}

func (h *Handlers) deleteRule(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	sc, err := scope(r)
	if err != nil {
		return err
	}
	if err := h.Svc.DeleteRule(r.Context(), auth.StaffShop(r.Context()), sc, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) importRules(w http.ResponseWriter, r *http.Request) error {
	sc, err := scope(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		format = "csv"
	}
	replace := q.Get("replace") == "true" || q.Get("replace") == "1"
	res, err := h.Svc.Import(r.Context(), auth.StaffShop(r.Context()), sc, format, replace, r.Body)
	return httpx.Respond(w, http.StatusOK, res, err)
}

func (h *Handlers) exportRules(w http.ResponseWriter, r *http.Request) error {
	sc, err := scope(r)
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	var b strings.Builder
	if err := h.Svc.Export(r.Context(), auth.StaffShop(r.Context()), sc, format, &b); err != nil {
		return err
	}
	ctype, name := "text/plain; charset=utf-8", "rules.txt"
	if format == "csv" {
		ctype, name = "text/csv; charset=utf-8", "rules.csv"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, err = w.Write([]byte(b.String()))
	return err
}

func (h *Handlers) check(w http.ResponseWriter, r *http.Request) error {
	var in checkBody
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	if len([]rune(in.Text)) > MaxTextRunes*5 {
		return errs.Field("text", "text_too_long", "at most 10,000 characters")
	}
	v, ms := h.Svc.Check(auth.StaffShop(r.Context()), in.Text)
	return httpx.Respond(w, http.StatusOK, CheckResult{Verdict: v, Matches: matchViews(ms)}, nil)
}

func (h *Handlers) getSettings(w http.ResponseWriter, r *http.Request) error {
	s, err := h.Svc.GetSettings(r.Context(), auth.StaffShop(r.Context()))
	return httpx.Respond(w, http.StatusOK, s, err)
}

func (h *Handlers) putSettings(w http.ResponseWriter, r *http.Request) error {
	var in Settings
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	s, err := h.Svc.PutSettings(r.Context(), auth.StaffShop(r.Context()), in)
	return httpx.Respond(w, http.StatusOK, s, err)
}

func (h *Handlers) listItems(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	items, err := h.Svc.ListItems(r.Context(), auth.StaffShop(r.Context()), ItemQuery{Status: q.Get("status"), Target: q.Get("target"), After: after, Limit: limit + 1})
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(items, limit, itemID), err)
}

func (h *Handlers) getItem(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	it, err := h.Svc.GetItem(r.Context(), auth.StaffShop(r.Context()), id)
	return httpx.Respond(w, http.StatusOK, it, err)
}

// staffAction runs a decision on the item or complaint named in the path.
func staffAction[T any](w http.ResponseWriter, r *http.Request, body any, do func(shopID, id int64, actor string) (T, error)) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if body != nil {
		if err := httpx.Decode(w, r, body, 0); err != nil {
			return err
		}
	}
	st, _ := auth.StaffFrom(r.Context())
	v, err := do(st.ShopID, id, StaffActor(st.AccountID))
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) approve(w http.ResponseWriter, r *http.Request) error {
	return staffAction(w, r, nil, func(shopID, id int64, actor string) (Item, error) {
		return h.Svc.Approve(r.Context(), shopID, id, actor)
	})
}

func (h *Handlers) reject(w http.ResponseWriter, r *http.Request) error {
	var in reasonBody
	return staffAction(w, r, &in, func(shopID, id int64, actor string) (Item, error) {
		return h.Svc.Reject(r.Context(), shopID, id, actor, in.Reason)
	})
}

func (h *Handlers) ban(w http.ResponseWriter, r *http.Request) error {
	var in BanInput
	return staffAction(w, r, &in, func(shopID, id int64, actor string) (Item, error) {
		return h.Svc.Ban(r.Context(), shopID, id, actor, in)
	})
}

func (h *Handlers) bans(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	bs, err := h.Svc.ActiveBans(r.Context(), auth.StaffShop(r.Context()), after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(bs, limit, func(x Ban) int64 { return x.ID }), err)
}

func (h *Handlers) liftBan(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	if err := h.Svc.LiftBan(r.Context(), st.ShopID, id, StaffActor(st.AccountID)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) decisions(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	ds, err := h.Svc.Decisions(r.Context(), auth.StaffShop(r.Context()), after, limit+1)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(ds, limit, func(x Decision) int64 { return x.ID }), err)
}

func itemID(x Item) int64 {
	return x.ID
}

func (h *Handlers) listComplaints(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	overdue := q.Get("overdue") == "true" || q.Get("overdue") == "1"
	after, limit, err := httpx.PageQueryKeys(r, 3)
	if err != nil {
		return err
	}
	cs, err := h.Svc.ListComplaints(r.Context(), auth.StaffShop(r.Context()), q.Get("status"), overdue, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOfKeys(cs, limit, Complaint.ComplaintKeys), err)
}

func (h *Handlers) takeDown(w http.ResponseWriter, r *http.Request) error {
	var in noteBody
	return staffAction(w, r, &in, func(shopID, id int64, actor string) (Complaint, error) {
		return h.Svc.TakeDown(r.Context(), shopID, id, actor, in.Note)
	})
}

func (h *Handlers) rejectComplaint(w http.ResponseWriter, r *http.Request) error {
	var in reasonBody
	return staffAction(w, r, &in, func(shopID, id int64, actor string) (Complaint, error) {
		return h.Svc.RejectComplaint(r.Context(), shopID, id, actor, in.Reason)
	})
}
