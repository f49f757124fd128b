package checkin

import (
	"bytes"
	"io"
	"net/http"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves check-ins, make-ups, calendars and the rules.
type Handlers struct{ Svc *Service }

var monthParam = httpx.Param{Name: "month", Type: "string", Description: "2006-01; the current month (Asia/Shanghai) when absent"}

// Routes registers the check-in routes.
func (h *Handlers) Routes(api *httpx.API) {
	const mini, admin = "mini: check-in", "admin: check-in"
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/me/checkin", Tag: mini, Access: httpx.Member,
		Errors:   map[int][]string{400: {"checkin_takes_no_date"}, 409: {"checkin_busy"}},
		Summary:  "Check in for today (the server's clock decides the day, Asia/Shanghai; send no body). Again the same day: 200 with already_checked_in and the first check-in's result",
		Response: Result{}, Handler: h.checkIn})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/me/checkin/makeup", Tag: mini, Access: httpx.Member,
		Errors: map[int][]string{400: {"invalid_day", "makeup_day_not_past", "makeup_out_of_reach"},
			409: {"no_makeup_cards", "makeup_monthly_limit", "already_checked_in", "checkin_busy"}},
		Summary: "Fill a missed day with a make-up card (补签卡), within the rules' reach and monthly allowance; the streak is recomputed (a make-up earns no points)",
		Request: MakeupInput{}, Response: MakeupResult{}, Handler: h.makeup})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/checkin", Tag: mini, Access: httpx.Member,
		Errors:  map[int][]string{400: {"invalid_month"}},
		Summary: "My check-in calendar for a month: days checked in (and made up), streak, longest, today's state, the next reward, cards held",
		Query:   []httpx.Param{monthParam}, Response: Calendar{}, Handler: h.calendar})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/checkin/rules", Tag: admin, Access: httpx.Staff, Perm: auth.PermPromotionsRead,
		Summary: "The current check-in rules (version 0: the defaults, before any save)", Response: Rules{}, Handler: h.rules})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/checkin/rules", Tag: admin, Access: httpx.Staff, Perm: auth.PermPromotionsManage,
		Errors:  map[int][]string{400: {"reward_day_duplicate", "too_many_rewards"}},
		Summary: "Save the check-in rules as a new version (old versions are kept; each check-in records the version that rewarded it)",
		Request: RulesInput{}, Response: Rules{}, Handler: h.saveRules})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/checkin/rules/versions", Tag: admin, Access: httpx.Staff, Perm: auth.PermPromotionsRead,
		Summary: "Every saved version of the check-in rules, newest first", Query: httpx.PageParams(),
		Response: httpx.Page[Rules]{}, Handler: h.versions})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/members/{id}/makeup-cards", Tag: admin, Access: httpx.Staff, Perm: auth.PermPromotionsManage,
		Idempotent: true, Errors: map[int][]string{404: {"member_not_found"}, 409: {"makeup_cards_limit", "checkin_busy"}},
		Summary: "Grant a member make-up cards (logged in the card ledger with the reason); the Idempotency-Key header makes a retry grant once",
		Request: GrantInput{}, Response: CardEntry{},
		Status: http.StatusCreated, Handler: h.grant})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/members/{id}/checkin", Tag: admin, Access: httpx.Staff, Perm: auth.PermMembersRead,
		Errors:  map[int][]string{400: {"invalid_month"}, 404: {"member_not_found"}},
		Summary: "A member's check-in calendar for a month, streaks, cards and the newest card ledger lines",
		Query:   []httpx.Param{monthParam}, Response: MemberCheckin{}, Handler: h.member})
}

func member(r *http.Request) auth.Member {
	m, _ := auth.MemberFrom(r.Context())
	return m
}

var errNoDate = errs.E(errs.Invalid, "checkin_takes_no_date", "a check-in takes no body: the server's clock decides the day")

func (h *Handlers) checkIn(w http.ResponseWriter, r *http.Request) error {
	// The day is never the client's: any body (a date above all) is refused.
	if r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		if b := bytes.TrimSpace(body); len(b) > 0 && !bytes.Equal(b, []byte("{}")) {
			return errNoDate
		}
	}
	m := member(r)
	res, err := h.Svc.CheckIn(r.Context(), m.ShopID, m.ID)
	return httpx.Respond(w, http.StatusOK, res, err)
}

func (h *Handlers) makeup(w http.ResponseWriter, r *http.Request) error {
	var in MakeupInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	m := member(r)
	res, err := h.Svc.Makeup(r.Context(), m.ShopID, m.ID, in)
	return httpx.Respond(w, http.StatusOK, res, err)
}

func (h *Handlers) calendar(w http.ResponseWriter, r *http.Request) error {
	m := member(r)
	c, err := h.Svc.Calendar(r.Context(), m.ShopID, m.ID, r.URL.Query().Get("month"))
	return httpx.Respond(w, http.StatusOK, c, err)
}

func (h *Handlers) rules(w http.ResponseWriter, r *http.Request) error {
	rules, err := h.Svc.CurrentRules(r.Context(), auth.StaffShop(r.Context()))
	return httpx.Respond(w, http.StatusOK, rules, err)
}

func (h *Handlers) saveRules(w http.ResponseWriter, r *http.Request) error {
	var in RulesInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	rules, err := h.Svc.SaveRules(r.Context(), auth.StaffShop(r.Context()), st.AccountID, in)
	return httpx.Respond(w, http.StatusOK, rules, err)
}

func (h *Handlers) versions(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	list, err := h.Svc.RuleVersions(r.Context(), auth.StaffShop(r.Context()), after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, func(v Rules) int64 { return v.Version }), err)
}

func (h *Handlers) grant(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in GrantInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	e, err := h.Svc.GrantCards(r.Context(), auth.StaffShop(r.Context()), id, st.AccountID, r.Header.Get("Idempotency-Key"), in)
	return httpx.Respond(w, http.StatusCreated, e, err)
}

func (h *Handlers) member(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	v, err := h.Svc.ForStaff(r.Context(), auth.StaffShop(r.Context()), id, r.URL.Query().Get("month"))
	return httpx.Respond(w, http.StatusOK, v, err)
}
