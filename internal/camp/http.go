package camp

import (
	"net/http"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves the camp routes.
type Handlers struct{ Svc *Service }

var campErrors = []string{"camp_not_found"}

var dayQuery = httpx.Param{Name: "day", Type: "integer", Description: "the camp day, 1 to 366 (default: today's)"}

// Routes registers the camp routes.
func (h *Handlers) Routes(api *httpx.API) {
	const mini, admin = "mini: camps", "admin: camps"
	edit := map[int][]string{409: {"camp_started", "capacity_below_enrolled", "camp_has_learners", "camp_changed"}, 404: campErrors}
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/camps", Tag: admin, Access: httpx.Staff, Perm: auth.PermCampRead,
		Summary:  "The shop's training camps (训练营), newest first, without their tasks",
		Query:    httpx.PageParams(httpx.Param{Name: "status", Type: "string", Enum: []string{Draft, Open, Closed}, Description: "only camps in this status"}),
		Response: httpx.Page[Camp]{}, Handler: h.list})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/camps", Tag: admin, Access: httpx.Staff, Perm: auth.PermCampManage,
		Summary: "Create a camp: a cohort starting on a date (Asia/Shanghai), one task per day", Request: Input{}, Response: Camp{},
		Status: http.StatusCreated, Handler: h.create})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/camps/{id}", Tag: admin, Access: httpx.Staff, Perm: auth.PermCampRead,
		Errors: map[int][]string{404: campErrors}, Summary: "A camp with its tasks", Response: Camp{}, Handler: h.get})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/camps/{id}", Tag: admin, Access: httpx.Staff, Perm: auth.PermCampManage,
		Errors:  edit,
		Summary: "Replace a camp and its tasks (once started with learners, its start date and length stay; capacity never below the learners enrolled)",
		Request: Input{}, Response: Camp{}, Handler: h.update})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/camps/{id}/learners", Tag: admin, Access: httpx.Staff, Perm: auth.PermCampRead,
		Errors:  map[int][]string{404: campErrors},
		Summary: "The camp's learners, the furthest behind first (fewest days done of those open, then longest since a check-in)",
		Query:   httpx.PageParams(), Response: httpx.Page[Learner]{}, Handler: h.learners})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/camps/{id}/checkins", Tag: admin, Access: httpx.Staff, Perm: auth.PermCampRead,
		Errors:  map[int][]string{404: campErrors},
		Summary: "The camp's check-ins, newest first: every status (pending ones await review)",
		Query: httpx.PageParams(httpx.Param{Name: "day", Type: "integer", Description: "only this camp day, 1 to 366"},
			httpx.Param{Name: "status", Type: "string", Enum: []string{Published, Pending, Rejected}, Description: "only this status"}),
		Response: httpx.Page[StaffCheckin]{}, Handler: h.checkins})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/camp-checkins/{id}/approve", Tag: admin, Access: httpx.Staff, Perm: auth.PermCampManage,
		Errors:  map[int][]string{404: {"checkin_not_found"}, 409: {"checkin_already_published", "checkin_already_rejected"}},
		Summary: "Approve a check-in held by moderation: it shows in the day's feed", Response: StaffCheckin{}, Handler: h.approve})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/camp-checkins/{id}/reject", Tag: admin, Access: httpx.Staff, Perm: auth.PermCampManage,
		Errors:   map[int][]string{404: {"checkin_not_found"}, 409: {"checkin_already_rejected"}},
		Summary:  "Reject a check-in (held or published): hidden, the day counts as not done, the learner may check in again",
		Response: StaffCheckin{}, Handler: h.reject})

	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/camps", Tag: mini, Access: httpx.Shop,
		Summary: "The shop's open camps, newest first", Query: httpx.PageParams(), Response: httpx.Page[BuyerCamp]{}, Handler: h.publicList})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/camps/{id}", Tag: mini, Access: httpx.Shop,
		Errors: map[int][]string{404: campErrors}, Summary: "A camp and its schedule (each day's date and task title)",
		Response: BuyerCamp{}, Handler: h.public})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/camps/{id}/join", Tag: mini, Access: httpx.Member,
		Errors:   map[int][]string{403: {"camp_not_purchased"}, 404: campErrors, 409: {"camp_full", "camp_closed", "camp_ended"}},
		Summary:  "Join a camp: a free one directly, a paid one after buying it (an entitlement of kind camp). Again: 200 with already_joined",
		Response: Enrolment{}, Handler: h.join})
	api.Add(httpx.Route{Method: "DELETE", Path: "/api/v1/camps/{id}/join", Tag: mini, Access: httpx.Member,
		Errors:  map[int][]string{403: {"not_enrolled"}, 404: campErrors, 409: {"camp_started"}},
		Summary: "Leave a camp before it starts (the seat is given back); from its first day on a learner stays",
		Status:  http.StatusNoContent, Handler: h.leave})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/camps/{id}", Tag: mini, Access: httpx.Member,
		Errors:   map[int][]string{403: {"not_enrolled"}, 404: campErrors},
		Summary:  "My camp: each day locked, open, done or missed with its task and my check-in, the streak and make-ups left",
		Response: MyCamp{}, Handler: h.mine})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/me/camps/{id}/checkins", Tag: mini, Access: httpx.Member,
		Errors: map[int][]string{400: {"day_out_of_range"}, 403: {"not_enrolled"}, 404: campErrors,
			409: {"day_not_open", "no_makeups_left"}, 422: {"content_blocked"}},
		Summary: "Check in for a camp day with text and images: today's, or a missed day with a make-up (补卡); a day not open yet is refused. Moderated first (held ones show after approval). Again: 200 with already_checked_in",
		Request: CheckinInput{}, Response: CheckinResult{}, Handler: h.checkIn})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/camps/{id}/checkins", Tag: mini, Access: httpx.Member,
		Errors:  map[int][]string{400: {"day_out_of_range"}, 403: {"not_enrolled"}, 404: campErrors},
		Summary: "A camp day's published check-ins, newest first, for the camp's learners",
		Query:   httpx.PageParams(dayQuery), Response: httpx.Page[FeedItem]{}, Handler: h.feed})
}

func staffShop(r *http.Request) int64 { return auth.StaffShop(r.Context()) }

func member(r *http.Request) auth.Member {
	m, _ := auth.MemberFrom(r.Context())
	return m
}

func (h *Handlers) list(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	list, err := h.Svc.List(r.Context(), staffShop(r), r.URL.Query().Get("status"), after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, func(c Camp) int64 { return c.ID }), err)
}

func (h *Handlers) create(w http.ResponseWriter, r *http.Request) error {
	var in Input
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	c, err := h.Svc.Create(r.Context(), staffShop(r), in)
	return httpx.Respond(w, http.StatusCreated, c, err)
}

func (h *Handlers) get(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	c, err := h.Svc.Get(r.Context(), staffShop(r), id)
	return httpx.Respond(w, http.StatusOK, c, err)
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
	c, err := h.Svc.Update(r.Context(), staffShop(r), id, in)
	return httpx.Respond(w, http.StatusOK, c, err)
}

func (h *Handlers) learners(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	after, limit, err := httpx.PageQueryKeys(r, 3)
	if err != nil {
		return err
	}
	list, err := h.Svc.Learners(r.Context(), staffShop(r), id, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOfKeys(list, limit, LearnerKeys), err)
}

func (h *Handlers) checkins(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	day, err := httpx.QueryInt(r, "day", 0, 1, MaxDays)
	if err != nil {
		return err
	}
	list, err := h.Svc.Checkins(r.Context(), staffShop(r), id, int(day), r.URL.Query().Get("status"), after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, func(c StaffCheckin) int64 { return c.ID }), err)
}

func (h *Handlers) approve(w http.ResponseWriter, r *http.Request) error { return h.review(w, r, true) }
func (h *Handlers) reject(w http.ResponseWriter, r *http.Request) error  { return h.review(w, r, false) }

func (h *Handlers) review(w http.ResponseWriter, r *http.Request, approve bool) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	c, err := h.Svc.Review(r.Context(), st.ShopID, id, st.AccountID, approve)
	return httpx.Respond(w, http.StatusOK, c, err)
}

func (h *Handlers) publicList(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	list, err := h.Svc.PublicList(r.Context(), auth.ShopFrom(r.Context()), after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, func(c BuyerCamp) int64 { return c.ID }), err)
}

func (h *Handlers) public(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	c, err := h.Svc.Public(r.Context(), auth.ShopFrom(r.Context()), id)
	return httpx.Respond(w, http.StatusOK, c, err)
}

func (h *Handlers) join(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	m := member(r)
	e, err := h.Svc.Join(r.Context(), m.ShopID, m.ID, id)
	return httpx.Respond(w, http.StatusOK, e, err)
}

func (h *Handlers) leave(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	m := member(r)
	if err := h.Svc.Leave(r.Context(), m.ShopID, m.ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) mine(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	m := member(r)
	v, err := h.Svc.Mine(r.Context(), m.ShopID, m.ID, id)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) checkIn(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in CheckinInput
	if err := httpx.Decode(w, r, &in, 64<<10); err != nil {
		return err
	}
	m := member(r)
	res, err := h.Svc.CheckIn(r.Context(), m.ShopID, m.ID, id, in)
	return httpx.Respond(w, http.StatusOK, res, err)
}

func (h *Handlers) feed(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	day, err := httpx.QueryInt(r, "day", 0, 1, MaxDays)
	if err != nil {
		return err
	}
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	m := member(r)
	list, err := h.Svc.Feed(r.Context(), m.ShopID, m.ID, id, int(day), after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, func(f FeedItem) int64 { return f.ID }), err)
}
