package learning

import (
	"net/http"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves progress, continue-learning, certificates and the staff's
// list of a course's learners.
type Handlers struct{ Svc *Service }

// Routes registers the learning routes.
func (h *Handlers) Routes(api *httpx.API) {
	const mini, admin = "mini: learning", "admin: learning"
	api.Add(httpx.Route{Method: "PUT", Path: "/api/v1/me/lessons/{id}/progress", Tag: mini, Access: httpx.Member,
		Errors: map[int][]string{400: {"progress_kind_mismatch", "invalid_position", "position_beyond_length"},
			403: {"lesson_locked"}, 404: {"lesson_not_found"}, 409: {"lesson_has_no_length"}},
		Summary: "Report progress in a lesson I may open: {\"position_sec\": n} for audio and video (0 to its length; beyond it is refused and nothing changes), {\"read\": true} for an article. The furthest position never moves back; 90 % (or read) completes the lesson, and the report that completes a course's last lesson issues its certificate",
		Request: ProgressInput{}, Response: Recorded{}, Handler: h.record})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/courses/{id}/progress", Tag: mini, Access: httpx.Member,
		Errors:   map[int][]string{404: {"course_not_found"}},
		Summary:  "My progress in a course: every published lesson, the completion percentage, the lesson to continue, the certificate's code once completed",
		Response: CourseProgress{}, Handler: h.course})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/learning/continue", Tag: mini, Access: httpx.Member,
		Summary: "Continue where I left off: the courses I was learning, most recently touched first, each at its last lesson and position",
		Query:   httpx.PageParams(), Response: httpx.Page[ContinueItem]{}, Handler: h.cont})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/courses/{id}/certificate.png", Tag: mini, Access: httpx.Member,
		Errors:   map[int][]string{404: {"certificate_not_found"}},
		Summary:  "My certificate of a completed course, as a PNG: my name, the course, the completion date (Asia/Shanghai) and its verification code",
		Produces: "image/png", Handler: h.png})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/certificates/{code}", Tag: mini, Access: httpx.Shop,
		Errors:   map[int][]string{404: {"certificate_not_found"}},
		Summary:  "Verify a certificate by the code printed on it (no login): whose it is, which course, when",
		Response: CertificateView{}, Handler: h.verify})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/content/courses/{id}/learners", Tag: admin, Access: httpx.Staff, Perm: auth.PermContentTeach,
		Errors:  map[int][]string{404: {"course_not_found"}},
		Summary: "A course's learners with their completion, the most recently active first",
		Query:   httpx.PageParams(), Response: httpx.Page[Learner]{}, Handler: h.learners})
}

func member(r *http.Request) auth.Member {
	m, _ := auth.MemberFrom(r.Context())
	return m
}

func (h *Handlers) record(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in ProgressInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	m := member(r)
	res, err := h.Svc.Record(r.Context(), m.ShopID, m.ID, id, in)
	return httpx.Respond(w, http.StatusOK, res, err)
}

func (h *Handlers) course(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	m := member(r)
	p, err := h.Svc.CourseProgress(r.Context(), m.ShopID, m.ID, id)
	return httpx.Respond(w, http.StatusOK, p, err)
}

func (h *Handlers) cont(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQueryKeys(r, 2)
	if err != nil {
		return err
	}
	m := member(r)
	list, err := h.Svc.Continue(r.Context(), m.ShopID, m.ID, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOfKeys(list, limit, ContinueKeys), err)
}

func (h *Handlers) png(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	m := member(r)
	b, err := h.Svc.CertificatePNG(r.Context(), m.ShopID, m.ID, id)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, no-store")
	_, _ = w.Write(b)
	return nil
}

func (h *Handlers) verify(w http.ResponseWriter, r *http.Request) error {
	v, err := h.Svc.Verify(r.Context(), auth.ShopFrom(r.Context()), r.PathValue("code"))
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) learners(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	after, limit, err := httpx.PageQueryKeys(r, 2)
	if err != nil {
		return err
	}
	list, err := h.Svc.Learners(r.Context(), auth.StaffShop(r.Context()), id, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOfKeys(list, limit, LearnerKeys), err)
}
