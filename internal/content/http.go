package content

import (
	"math"
	"net/http"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves the buyers' content routes and the console's.
type Handlers struct{ Svc *Service }

// firstPage is the sort keys before every row.
var firstPage = []int64{math.MinInt32, 0}

func pageKeys(r *http.Request) ([]int64, int, error) {
	after, limit, err := httpx.PageQueryKeys(r, 2)
	if after == nil {
		after = firstPage
	}
	return after, limit, err
}

// Routes registers the content routes.
func (h *Handlers) Routes(api *httpx.API) {
	h.buyerRoutes(api)
	h.catalogRoutes(api)
	h.entitlementRoutes(api)
}

func (h *Handlers) buyerRoutes(api *httpx.API) {
	const mini = "mini: content"
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/content/courses", Tag: mini, Access: httpx.Member,
		Summary: "Released courses and columns in order, each with this member's price, access and the real learner count",
		Query:   httpx.PageParams(), Response: httpx.Page[BuyerCourse]{}, Handler: h.buyerCourses})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/content/courses/{id}", Tag: mini, Access: httpx.Member,
		Errors:  map[int][]string{404: {"course_not_found"}},
		Summary: "A released course with its lessons (locked, free and preview flags)", Response: BuyerCourseDetail{}, Handler: h.buyerCourse})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/content/lessons/{id}", Tag: mini, Access: httpx.Member,
		Errors:   map[int][]string{404: {"lesson_not_found"}},
		Summary:  "Open a lesson: with access, the article's nodes and/or a media URL signed for 10 minutes; without, the preview and locked=true",
		Response: BuyerLesson{}, Handler: h.buyerLesson})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/content/packages", Tag: mini, Access: httpx.Member,
		Summary: "Released packages in order, with this member's price and access",
		Query:   httpx.PageParams(), Response: httpx.Page[BuyerPackage]{}, Handler: h.buyerPackages})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/content/plans", Tag: mini, Access: httpx.Member,
		Summary: "Released membership plans in order, with whether this member holds each",
		Query:   httpx.PageParams(), Response: httpx.Page[BuyerPlan]{}, Handler: h.buyerPlans})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/content/entitlements", Tag: mini, Access: httpx.Member,
		Summary: "My entitlements (已购 / 我的会员), newest first: target, end, in_grace (show the renewal banner)",
		Query:   httpx.PageParams(), Response: httpx.Page[MyEntitlement]{}, Handler: h.mine})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/content/media/{token}", Tag: mini, Access: httpx.Public,
		Errors:   map[int][]string{403: {"media_link_invalid"}, 404: {"media_not_found"}, 410: {"media_link_expired"}},
		Summary:  "A lesson's audio or video through the signed link the lesson route gave (Range requests supported)",
		Produces: "application/octet-stream", Handler: h.media})
}

func buyer(r *http.Request) auth.Member {
	m, _ := auth.MemberFrom(r.Context())
	return m
}

func (h *Handlers) buyerCourses(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := pageKeys(r)
	if err != nil {
		return err
	}
	m := buyer(r)
	list, err := h.Svc.BuyerCourses(r.Context(), m.ShopID, m.ID, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOfKeys(list, limit, func(c BuyerCourse) []int64 { return []int64{int64(c.sort), c.ID} }), err)
}

func (h *Handlers) buyerCourse(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	m := buyer(r)
	c, err := h.Svc.BuyerCourse(r.Context(), m.ShopID, m.ID, id)
	return httpx.Respond(w, http.StatusOK, c, err)
}

func (h *Handlers) buyerLesson(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	m := buyer(r)
	l, err := h.Svc.BuyerLesson(r.Context(), m.ShopID, m.ID, id)
	return httpx.Respond(w, http.StatusOK, l, err)
}

func (h *Handlers) buyerPackages(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := pageKeys(r)
	if err != nil {
		return err
	}
	m := buyer(r)
	list, err := h.Svc.BuyerPackages(r.Context(), m.ShopID, m.ID, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOfKeys(list, limit, func(p BuyerPackage) []int64 { return []int64{int64(p.sort), p.ID} }), err)
}

func (h *Handlers) buyerPlans(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := pageKeys(r)
	if err != nil {
		return err
	}
	m := buyer(r)
	list, err := h.Svc.BuyerPlans(r.Context(), m.ShopID, m.ID, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOfKeys(list, limit, func(p BuyerPlan) []int64 { return []int64{int64(p.sort), p.ID} }), err)
}

func (h *Handlers) mine(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	m := buyer(r)
	list, err := h.Svc.MyEntitlements(r.Context(), m.ShopID, m.ID, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, func(e MyEntitlement) int64 { return e.ID }), err)
}

func (h *Handlers) media(w http.ResponseWriter, r *http.Request) error {
	return h.Svc.ServeMedia(w, r, r.PathValue("token"))
}
