package achievements

import (
	"net/http"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves tasks, badges and records.
type Handlers struct{ Svc *Service }

// Routes registers the achievements routes.
func (h *Handlers) Routes(api *httpx.API) {
	const mini, admin = "mini: achievements", "admin: achievements"
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/tasks", Tag: mini, Access: httpx.Member,
		Summary:  "My new-member tasks (first week after signup, Asia/Shanghai): each one's reward and whether it is open, done or expired",
		Response: BuyerTasks{}, Handler: h.myTasks})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/badges", Tag: mini, Access: httpx.Member,
		Summary:  "My badges: those earned and those ahead, with my progress toward each (the whole list: at most 100)",
		Response: []BuyerBadge{}, Handler: h.myBadges})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/record", Tag: mini, Access: httpx.Member,
		Summary:  "My record (我的记录): days active, check-in streaks, orders received, money spent and saved, points earned, badges",
		Response: Record{}, Handler: h.myRecord})

	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/tasks", Tag: admin, Access: httpx.Staff, Perm: auth.PermPromotionsRead,
		Summary: "The new-member tasks: on or off and the points each rewards", Response: TaskSettings{}, Handler: h.tasks})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/tasks", Tag: admin, Access: httpx.Staff, Perm: auth.PermPromotionsManage,
		Summary: "Change new-member tasks (the ones named; a task done keeps the reward it gave)",
		Request: TasksInput{}, Response: TaskSettings{}, Handler: h.saveTasks})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/badges", Tag: admin, Access: httpx.Staff, Perm: auth.PermPromotionsRead,
		Summary: "The shop's badges, oldest first (the whole list: at most 100)", Response: []Badge{}, Handler: h.badges})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/badges", Tag: admin, Access: httpx.Staff, Perm: auth.PermPromotionsManage,
		Errors:  map[int][]string{409: {"too_many_badges"}},
		Summary: "Define a badge: a rule kind and threshold, optional points (members past it get it with their next event of its kind)",
		Request: BadgeInput{}, Response: Badge{}, Status: http.StatusCreated, Handler: h.createBadge})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/badges/{id}", Tag: admin, Access: httpx.Staff, Perm: auth.PermPromotionsManage,
		Errors:  map[int][]string{404: {"badge_not_found"}},
		Summary: "Change a badge (holders keep it)", Request: BadgeInput{}, Response: Badge{}, Handler: h.updateBadge})
	api.Add(httpx.Route{Method: "DELETE", Path: "/admin/api/v1/badges/{id}", Tag: admin, Access: httpx.Staff, Perm: auth.PermPromotionsManage,
		Errors:  map[int][]string{404: {"badge_not_found"}, 409: {"badge_awarded"}},
		Summary: "Delete a badge nobody holds (disable a held one instead)", Status: http.StatusNoContent, Handler: h.deleteBadge})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/members/{id}/badges", Tag: admin, Access: httpx.Staff, Perm: auth.PermMembersRead,
		Errors:  map[int][]string{404: {"member_not_found"}},
		Summary: "The badges a member holds, newest first (the whole list: at most 100)", Response: []MemberBadge{}, Handler: h.memberBadges})
}

func buyer(r *http.Request) auth.Member {
	m, _ := auth.MemberFrom(r.Context())
	return m
}

func staffShop(r *http.Request) int64 {
	st, _ := auth.StaffFrom(r.Context())
	return st.ShopID
}

func (h *Handlers) myTasks(w http.ResponseWriter, r *http.Request) error {
	m := buyer(r)
	out, err := h.Svc.MemberTasks(r.Context(), m.ShopID, m.ID)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) myBadges(w http.ResponseWriter, r *http.Request) error {
	m := buyer(r)
	out, err := h.Svc.BuyerBadges(r.Context(), m.ShopID, m.ID)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) myRecord(w http.ResponseWriter, r *http.Request) error {
	m := buyer(r)
	out, err := h.Svc.Record(r.Context(), m.ShopID, m.ID)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) tasks(w http.ResponseWriter, r *http.Request) error {
	out, err := h.Svc.Tasks(r.Context(), staffShop(r))
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) saveTasks(w http.ResponseWriter, r *http.Request) error {
	var in TasksInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	out, err := h.Svc.SaveTasks(r.Context(), staffShop(r), in)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) badges(w http.ResponseWriter, r *http.Request) error {
	out, err := h.Svc.Badges(r.Context(), staffShop(r))
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) createBadge(w http.ResponseWriter, r *http.Request) error {
	var in BadgeInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	out, err := h.Svc.CreateBadge(r.Context(), staffShop(r), in)
	return httpx.Respond(w, http.StatusCreated, out, err)
}

func (h *Handlers) updateBadge(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in BadgeInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	out, err := h.Svc.UpdateBadge(r.Context(), staffShop(r), id, in)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) deleteBadge(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.Svc.DeleteBadge(r.Context(), staffShop(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) memberBadges(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	out, err := h.Svc.MemberBadges(r.Context(), staffShop(r), id)
	return httpx.Respond(w, http.StatusOK, out, err)
}
