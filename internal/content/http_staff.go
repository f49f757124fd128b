package content

import (
	"context"

	"github.com/kaidian/kaidian/internal/platform/db"
	"net/http"
	"time"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

const admin = "admin: content"

func (h *Handlers) catalogRoutes(api *httpx.API) {
	read, manage := auth.PermContentRead, auth.PermContentManage
	bad := map[int][]string{400: {"invalid_fields"}}
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/content/courses", Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "The shop's courses and columns in order, drafts too", Query: httpx.PageParams(), Response: httpx.Page[Course]{}, Handler: h.courses})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/content/courses", Tag: admin, Access: httpx.Staff, Perm: manage, Errors: bad,
		Summary: "Create a course or column (intro made safe)", Request: CourseInput{}, Response: Course{}, Status: http.StatusCreated, Handler: h.createCourse})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/content/courses/{id}", Tag: admin, Access: httpx.Staff, Perm: read,
		Errors: map[int][]string{404: {"course_not_found"}}, Summary: "A course", Response: Course{}, Handler: h.course})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/content/courses/{id}", Tag: admin, Access: httpx.Staff, Perm: manage,
		Errors:  map[int][]string{400: {"invalid_fields"}, 404: {"course_not_found"}},
		Summary: "Replace a course (status and publish_at publish it or schedule its release)", Request: CourseInput{}, Response: Course{}, Handler: h.updateCourse})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/content/courses/{id}/lessons", Tag: admin, Access: httpx.Staff, Perm: read,
		Errors:  map[int][]string{404: {"course_not_found"}},
		Summary: "A course's lessons in order, drafts too", Query: httpx.PageParams(), Response: httpx.Page[Lesson]{}, Handler: h.lessons})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/content/courses/{id}/lessons", Tag: admin, Access: httpx.Staff, Perm: manage,
		Errors:  map[int][]string{400: {"invalid_fields"}, 404: {"course_not_found"}},
		Summary: "Add a lesson at the end of a course", Request: LessonInput{}, Response: Lesson{}, Status: http.StatusCreated, Handler: h.createLesson})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/content/courses/{id}/lessons/reorder", Tag: admin, Access: httpx.Staff, Perm: manage,
		Errors:  map[int][]string{400: {"invalid_ids"}, 404: {"item_not_found"}},
		Summary: "Set the order of a course's lessons", Request: ReorderInput{}, Handler: h.reorderLessons})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/content/lessons/{id}", Tag: admin, Access: httpx.Staff, Perm: read,
		Errors: map[int][]string{404: {"lesson_not_found"}}, Summary: "A lesson", Response: Lesson{}, Handler: h.lesson})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/content/lessons/{id}", Tag: admin, Access: httpx.Staff, Perm: manage,
		Errors:  map[int][]string{400: {"invalid_fields"}, 404: {"lesson_not_found"}},
		Summary: "Replace a lesson (it stays in its course)", Request: LessonInput{}, Response: Lesson{}, Handler: h.updateLesson})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/content/packages", Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "The shop's packages in order", Query: httpx.PageParams(), Response: httpx.Page[Package]{}, Handler: h.packages})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/content/packages", Tag: admin, Access: httpx.Staff, Perm: manage,
		Errors:  map[int][]string{400: {"invalid_fields", "invalid_course_ids"}, 404: {"course_not_found"}},
		Summary: "Create a package of courses", Request: PackageInput{}, Response: Package{}, Status: http.StatusCreated, Handler: h.savePackage})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/content/packages/{id}", Tag: admin, Access: httpx.Staff, Perm: read,
		Errors: map[int][]string{404: {"package_not_found"}}, Summary: "A package", Response: Package{}, Handler: h.pkg})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/content/packages/{id}", Tag: admin, Access: httpx.Staff, Perm: manage,
		Errors:  map[int][]string{400: {"invalid_fields", "invalid_course_ids"}, 404: {"package_not_found", "course_not_found"}},
		Summary: "Replace a package", Request: PackageInput{}, Response: Package{}, Handler: h.savePackage})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/content/plans", Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "The shop's membership plans in order, with their members now", Query: httpx.PageParams(), Response: httpx.Page[Plan]{}, Handler: h.plans})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/content/plans", Tag: admin, Access: httpx.Staff, Perm: manage,
		Errors:  map[int][]string{400: {"invalid_fields", "invalid_course_ids"}, 404: {"course_not_found"}},
		Summary: "Create a membership plan", Request: PlanInput{}, Response: Plan{}, Status: http.StatusCreated, Handler: h.savePlan})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/content/plans/{id}", Tag: admin, Access: httpx.Staff, Perm: read,
		Errors: map[int][]string{404: {"plan_not_found"}}, Summary: "A membership plan", Response: Plan{}, Handler: h.plan})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/content/plans/{id}", Tag: admin, Access: httpx.Staff, Perm: manage,
		Errors:  map[int][]string{400: {"invalid_fields", "invalid_course_ids"}, 404: {"plan_not_found", "course_not_found"}},
		Summary: "Replace a membership plan", Request: PlanInput{}, Response: Plan{}, Handler: h.savePlan})
	for _, list := range []string{"courses", "packages", "plans"} {
		api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/content/" + list + "/reorder", Tag: admin, Access: httpx.Staff, Perm: manage,
			Errors:  map[int][]string{400: {"invalid_ids"}, 404: {"item_not_found"}},
			Summary: "Set the order of the shop's " + list, Request: ReorderInput{}, Handler: h.reorder(list)})
	}
	for _, list := range []string{"courses", "lessons", "packages", "plans"} {
		api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/content/" + list + "/{id}/release", Tag: admin, Access: httpx.Staff, Perm: manage,
			Errors:  map[int][]string{400: {"invalid_fields"}, 404: {"item_not_found"}},
			Summary: "Publish, schedule (publish_at) or take back to draft one of the shop's " + list, Request: ReleaseInput{}, Handler: h.release(list)})
	}
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/content/settings", Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "The shop's content settings (grace period)", Response: Settings{}, Handler: h.settings})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/content/settings", Tag: admin, Access: httpx.Staff, Perm: manage,
		Errors:  map[int][]string{400: {"invalid_grace_days"}},
		Summary: "Change the shop's content settings", Request: SettingsInput{}, Response: Settings{}, Handler: h.saveSettings})
}

func (h *Handlers) entitlementRoutes(api *httpx.API) {
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/members/{id}/entitlements", Tag: admin, Access: httpx.Staff, Perm: auth.PermContentRead,
		Errors:  map[int][]string{404: {"member_not_found"}},
		Summary: "A member's entitlements, newest first, revoked ones too", Query: httpx.PageParams(), Response: httpx.Page[Entitlement]{}, Handler: h.memberEnts})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/members/{id}/entitlement-events", Tag: admin, Access: httpx.Staff, Perm: auth.PermContentRead,
		Errors:  map[int][]string{404: {"member_not_found"}},
		Summary: "The log of a member's grants and revokes, newest first", Query: httpx.PageParams(), Response: httpx.Page[Event]{}, Handler: h.memberEvents})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/members/{id}/entitlements", Tag: admin, Access: httpx.Staff, Perm: auth.PermContentManage,
		Idempotent: true, Errors: map[int][]string{400: {"invalid_fields", "reason_required"},
			404: {"member_not_found", "course_not_found", "package_not_found", "plan_not_found"}},
		Summary: "Grant a member a course, package or plan by hand (reason required, logged); a renewal extends from the current end; the Idempotency-Key header makes a retry grant once",
		Request: StaffGrantInput{}, Response: Entitlement{}, Status: http.StatusCreated, Handler: h.grant})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/content/entitlements/{id}/revoke", Tag: admin, Access: httpx.Staff, Perm: auth.PermContentManage,
		Errors:  map[int][]string{400: {"reason_required"}, 404: {"entitlement_not_found"}},
		Summary: "Revoke an entitlement (reason required, logged; never deleted; revoking again changes nothing)",
		Request: StaffRevokeInput{}, Response: Entitlement{}, Handler: h.revoke})
}

func staffShop(r *http.Request) int64 { return auth.StaffShop(r.Context()) }

func (h *Handlers) courses(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := pageKeys(r)
	if err != nil {
		return err
	}
	list, err := h.Svc.Courses(r.Context(), staffShop(r), after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOfKeys(list, limit, func(c Course) []int64 { return []int64{int64(c.Sort), c.ID} }), err)
}

func (h *Handlers) createCourse(w http.ResponseWriter, r *http.Request) error {
	var in CourseInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	c, err := h.Svc.CreateCourse(r.Context(), staffShop(r), in)
	return httpx.Respond(w, http.StatusCreated, c, err)
}

func (h *Handlers) course(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	c, err := h.Svc.Course(r.Context(), staffShop(r), id)
	return httpx.Respond(w, http.StatusOK, c, err)
}

func (h *Handlers) updateCourse(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in CourseInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	c, err := h.Svc.UpdateCourse(r.Context(), staffShop(r), id, in)
	return httpx.Respond(w, http.StatusOK, c, err)
}

func (h *Handlers) lessons(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	after, limit, err := pageKeys(r)
	if err != nil {
		return err
	}
	list, err := h.Svc.StaffLessons(r.Context(), staffShop(r), id, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOfKeys(list, limit, func(l Lesson) []int64 { return []int64{int64(l.Sort), l.ID} }), err)
}

func (h *Handlers) createLesson(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in LessonInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	l, err := h.Svc.CreateLesson(r.Context(), staffShop(r), id, in)
	return httpx.Respond(w, http.StatusCreated, l, err)
}

func (h *Handlers) lesson(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	l, err := h.Svc.StaffLesson(r.Context(), staffShop(r), id)
	return httpx.Respond(w, http.StatusOK, l, err)
}

func (h *Handlers) updateLesson(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in LessonInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	l, err := h.Svc.UpdateLesson(r.Context(), staffShop(r), id, in)
	return httpx.Respond(w, http.StatusOK, l, err)
}

func (h *Handlers) reorderLessons(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in ReorderInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	if _, err := h.Svc.Course(r.Context(), staffShop(r), id); err != nil {
		return err
	}
	if err := h.Svc.Reorder(r.Context(), staffShop(r), "lessons", id, in); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) reorder(list string) httpx.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in ReorderInput
		if err := httpx.Decode(w, r, &in, 0); err != nil {
			return err
		}
		if err := h.Svc.Reorder(r.Context(), staffShop(r), list, 0, in); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// ReleaseInput publishes, schedules or takes back one thing.
type ReleaseInput struct {
	Status    string     `json:"status" enum:"draft,published"`
	PublishAt *time.Time `json:"publish_at" doc:"null: at once"`
}

func (h *Handlers) release(list string) httpx.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := httpx.PathID(r, "id")
		if err != nil {
			return err
		}
		var in ReleaseInput
		if err := httpx.Decode(w, r, &in, 0); err != nil {
			return err
		}
		if err := h.Svc.SetRelease(r.Context(), staffShop(r), list, id, in); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (h *Handlers) packages(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := pageKeys(r)
	if err != nil {
		return err
	}
	list, err := h.Svc.Packages(r.Context(), staffShop(r), after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOfKeys(list, limit, func(p Package) []int64 { return []int64{int64(p.Sort), p.ID} }), err)
}

// optionalID is the path id of a PUT, 0 for a POST.
func optionalID(r *http.Request) (int64, error) {
	if r.PathValue("id") == "" {
		return 0, nil
	}
	return httpx.PathID(r, "id")
}

func (h *Handlers) savePackage(w http.ResponseWriter, r *http.Request) error {
	id, err := optionalID(r)
	if err != nil {
		return err
	}
	var in PackageInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	p, err := h.Svc.SavePackage(r.Context(), staffShop(r), id, in)
	status := http.StatusOK
	if id == 0 {
		status = http.StatusCreated
	}
	return httpx.Respond(w, status, p, err)
}

func (h *Handlers) pkg(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	p, err := h.Svc.Package(r.Context(), staffShop(r), id)
	return httpx.Respond(w, http.StatusOK, p, err)
}

func (h *Handlers) plans(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := pageKeys(r)
	if err != nil {
		return err
	}
	list, err := h.Svc.Plans(r.Context(), staffShop(r), after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOfKeys(list, limit, func(p Plan) []int64 { return []int64{int64(p.Sort), p.ID} }), err)
}

func (h *Handlers) savePlan(w http.ResponseWriter, r *http.Request) error {
	id, err := optionalID(r)
	if err != nil {
		return err
	}
	var in PlanInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	p, err := h.Svc.SavePlan(r.Context(), staffShop(r), id, in)
	status := http.StatusOK
	if id == 0 {
		status = http.StatusCreated
	}
	return httpx.Respond(w, status, p, err)
}

func (h *Handlers) plan(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	p, err := h.Svc.Plan(r.Context(), staffShop(r), id)
	return httpx.Respond(w, http.StatusOK, p, err)
}

func (h *Handlers) settings(w http.ResponseWriter, r *http.Request) error {
	st, err := h.Svc.Settings(r.Context(), staffShop(r))
	return httpx.Respond(w, http.StatusOK, st, err)
}

func (h *Handlers) saveSettings(w http.ResponseWriter, r *http.Request) error {
	var in SettingsInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, err := h.Svc.SaveSettings(r.Context(), staffShop(r), in)
	return httpx.Respond(w, http.StatusOK, st, err)
}

func (h *Handlers) memberEnts(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	list, err := h.Svc.Entitlements(r.Context(), staffShop(r), id, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, func(e Entitlement) int64 { return e.ID }), err)
}

func (h *Handlers) memberEvents(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	list, err := h.Svc.Events(r.Context(), staffShop(r), id, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, func(e Event) int64 { return e.ID }), err)
}

func (h *Handlers) grant(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in StaffGrantInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	e, err := h.Svc.StaffGrant(r.Context(), staffShop(r), id, st.AccountID, r.Header.Get("Idempotency-Key"), in)
	return httpx.Respond(w, http.StatusCreated, e, err)
}

func (h *Handlers) revoke(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in StaffRevokeInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	e, err := h.Svc.StaffRevoke(r.Context(), staffShop(r), id, st.AccountID, in)
	return httpx.Respond(w, http.StatusOK, e, err)
}

// SetRelease publishes, schedules or takes back one course, lesson,
// package or plan of the shop.
func (s *Service) SetRelease(ctx context.Context, shopID int64, list string, id int64, in ReleaseInput) error {
	var v errs.Validator
	checkRelease(&v, in.Status)
	if err := v.Err(); err != nil {
		return err
	}
	table := reorderable[list]
	if table == "" {
		return errs.E(errs.NotFound, "list_not_found", "no such list")
	}
	return s.edit(ctx, shopID, func(tx *db.Tx) error {
		if list == "lessons" && in.Status == "published" {
			if err := publishable(ctx, tx, shopID, id); err != nil {
				return err
			}
		}
		err := db.ExpectOne(tx.Exec(ctx, `UPDATE `+table+` SET status = ?, publish_at = ?, updated_at = ? WHERE id = ? AND shop_id = ?`,
			in.Status, publishMS(in.PublishAt), ms(s.now()), id, shopID))
		if db.IsNoRows(err) {
			return errs.E(errs.NotFound, "item_not_found", "no such item")
		}
		return err
	})
}

// publishable refuses to publish an audio or video lesson without its file
// or URL (the edit form checks the same).
func publishable(ctx context.Context, tx *db.Tx, shopID, id int64) error {
	var kind, key, url string
	err := tx.QueryRow(ctx, `SELECT kind, media_key, media_url FROM content_lessons WHERE id = ? AND shop_id = ?`, id, shopID).Scan(&kind, &key, &url)
	if db.IsNoRows(err) {
		return errs.E(errs.NotFound, "item_not_found", "no such item")
	}
	if err != nil {
		return err
	}
	if (kind == "audio" || kind == "video") && key == "" && url == "" {
		return errs.Field("media_key", "invalid_fields", "a published audio or video lesson needs its file or URL")
	}
	return nil
}
