package levels

import (
	"github.com/kaidian/kaidian/internal/member"
	"net/http"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves member levels.
type Handlers struct{ Svc *Service }

// Ladder is the shop's levels.
type Ladder struct {
	Levels []Level `json:"levels" doc:"lowest first"`
}

// Routes registers the levels routes.
func (h *Handlers) Routes(api *httpx.API) {
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/level", Tag: "mini: levels", Access: httpx.Member,
		Summary: "My level: growth, benefits, what the next level needs, an announced fall", Response: MemberLevel{}, Handler: h.mine})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/levels", Tag: "admin: levels", Access: httpx.Staff, Perm: auth.PermMembersRead,
		Summary: "The shop's member levels, lowest first", Response: Ladder{}, Handler: h.ladder})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/levels", Tag: "admin: levels", Access: httpx.Staff, Perm: auth.PermPointsManage,
		Summary: "Replace the shop's levels (members are reviewed against them within the hour: rises at once, falls announced 30 days ahead)",
		Request: LevelsInput{}, Response: Ladder{}, Handler: h.save})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/members/{id}/level", Tag: "admin: levels", Access: httpx.Staff, Perm: auth.PermMembersRead,
		Errors: map[int][]string{404: {"member_not_found"}}, Summary: "A member's level and growth", Response: MemberLevel{}, Handler: h.member})
}

func (h *Handlers) mine(w http.ResponseWriter, r *http.Request) error {
	m, _ := auth.MemberFrom(r.Context())
	out, err := h.Svc.Member(r.Context(), m.ShopID, m.ID)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) ladder(w http.ResponseWriter, r *http.Request) error {
	st, _ := auth.StaffFrom(r.Context())
	list, err := h.Svc.Levels(r.Context(), st.ShopID)
	return httpx.Respond(w, http.StatusOK, Ladder{Levels: list}, err)
}

func (h *Handlers) save(w http.ResponseWriter, r *http.Request) error {
	var in LevelsInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	list, err := h.Svc.SaveLevels(r.Context(), st.ShopID, in)
	return httpx.Respond(w, http.StatusOK, Ladder{Levels: list}, err)
}

func (h *Handlers) member(w http.ResponseWriter, r *http.Request) error {
	st, _ := auth.StaffFrom(r.Context())
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := member.InShop(r.Context(), h.Svc.db, st.ShopID, id); err != nil {
		return err
	}
	out, err := h.Svc.Member(r.Context(), st.ShopID, id)
	return httpx.Respond(w, http.StatusOK, out, err)
}
