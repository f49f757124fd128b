package qa

import (
	"net/http"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves lessons' threads to learners and the teacher's tools to staff.
type Handlers struct{ Svc *Service }

var moderationErrors = map[int][]string{403: {"lesson_locked", "member_banned"}, 422: {"content_blocked"}}

// Routes registers the comments and questions routes.
func (h *Handlers) Routes(api *httpx.API) {
	const mini, admin = "mini: lesson comments", "admin: lesson comments"
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/lessons/{id}/posts", Tag: mini, Access: httpx.Member,
		Errors:   map[int][]string{400: {"invalid_sort"}, 404: {"lesson_not_found"}},
		Summary:  "A lesson's comments and questions: pinned first, then newest (or most liked with sort=likes), each with its replies (the teacher's marked); my own posts held for review show as pending",
		Query:    httpx.PageParams(httpx.Param{Name: "sort", Type: "string", Enum: []string{SortNewest, SortLikes}, Description: "newest (default) or likes"}),
		Response: httpx.Page[BuyerPost]{}, Handler: h.thread})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/lessons/{id}/posts", Tag: mini, Access: httpx.Member,
		Errors:  merge(moderationErrors, map[int][]string{400: {"invalid_kind", "invalid_text"}, 404: {"lesson_not_found"}}),
		Summary: "Post a comment or a question on a lesson I may open. It goes through moderation first: shown at once, held for review (pending, visible only to me until approved), or refused (422)",
		Request: NewPost{}, Response: BuyerPost{}, Status: http.StatusCreated, Handler: h.post})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/qa/posts/{id}/replies", Tag: mini, Access: httpx.Member,
		Errors:  merge(moderationErrors, map[int][]string{400: {"invalid_text"}, 404: {"post_not_found"}}),
		Summary: "Reply to a post (a reply to a reply goes under its post), moderated like a post",
		Request: NewReply{}, Response: BuyerReply{}, Status: http.StatusCreated, Handler: h.reply})
	api.Add(httpx.Route{Method: "PUT", Path: "/api/v1/qa/posts/{id}/like", Tag: mini, Access: httpx.Member,
		Errors:  map[int][]string{404: {"post_not_found"}},
		Summary: "Like a post or reply (once: liking again changes nothing)", Response: LikeResult{}, Handler: h.like(true)})
	api.Add(httpx.Route{Method: "DELETE", Path: "/api/v1/qa/posts/{id}/like", Tag: mini, Access: httpx.Member,
		Errors:  map[int][]string{404: {"post_not_found"}},
		Summary: "Take my like back (when there is none, nothing changes)", Response: LikeResult{}, Handler: h.like(false)})

	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/qa/questions", Tag: admin, Access: httpx.Staff, Perm: auth.PermContentTeach,
		Summary:  "The teacher's queue: published questions without a teacher's reply, oldest first",
		Query:    httpx.PageParams(httpx.Param{Name: "course_id", Type: "integer", Description: "only this course's questions"}),
		Response: httpx.Page[Post]{}, Handler: h.queue})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/content/lessons/{id}/posts", Tag: admin, Access: httpx.Staff, Perm: auth.PermContentTeach,
		Errors:  map[int][]string{404: {"lesson_not_found"}},
		Summary: "Every post and reply on a lesson, whatever its status, newest first",
		Query:   httpx.PageParams(), Response: httpx.Page[Post]{}, Handler: h.lessonPosts})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/qa/posts/{id}/replies", Tag: admin, Access: httpx.Staff, Perm: auth.PermContentTeach,
		Errors:  map[int][]string{400: {"invalid_text"}, 404: {"post_not_found"}, 409: {"post_not_published"}},
		Summary: "Reply as the teacher (marked as such to learners); the first reply to a question answers it and takes it off the queue",
		Request: NewReply{}, Response: Post{}, Status: http.StatusCreated, Handler: h.teacherReply})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/qa/posts/{id}/pin", Tag: admin, Access: httpx.Staff, Perm: auth.PermContentTeach,
		Errors:   map[int][]string{404: {"post_not_found"}, 409: {"post_not_published"}},
		Summary:  "Pin a published post (it leads the lesson's thread) or reply (a pinned answer leads its replies)",
		Response: Post{}, Handler: h.pin(true)})
	api.Add(httpx.Route{Method: "DELETE", Path: "/admin/api/v1/qa/posts/{id}/pin", Tag: admin, Access: httpx.Staff, Perm: auth.PermContentTeach,
		Errors:  map[int][]string{404: {"post_not_found"}},
		Summary: "Unpin a post or reply", Response: Post{}, Handler: h.pin(false)})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/qa/posts/{id}/hide", Tag: admin, Access: httpx.Staff, Perm: auth.PermContentTeach,
		Errors:  map[int][]string{404: {"post_not_found"}},
		Summary: "Hide a post or reply from learners (it is unpinned)", Response: Post{}, Handler: h.hide})
}

func merge(a, b map[int][]string) map[int][]string {
	out := map[int][]string{}
	for _, m := range []map[int][]string{a, b} {
		for k, v := range m {
			out[k] = append(out[k], v...)
		}
	}
	return out
}

func member(r *http.Request) auth.Member {
	m, _ := auth.MemberFrom(r.Context())
	return m
}

func (h *Handlers) thread(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	sort := r.URL.Query().Get("sort")
	if sort == "" {
		sort = SortNewest
	}
	if sort != SortNewest && sort != SortLikes {
		return errs.Field("sort", "invalid_sort", "sort must be newest or likes")
	}
	after, limit, err := httpx.PageQueryKeys(r, 3)
	if err != nil {
		return err
	}
	m := member(r)
	items, err := h.Svc.Thread(r.Context(), m.ShopID, m.ID, id, sort, after, limit)
	if err != nil {
		return err
	}
	page := httpx.PageOfKeys(items, limit, func(t ThreadItem) []int64 { return t.Keys })
	posts := make([]BuyerPost, len(page.Items))
	for i, t := range page.Items {
		posts[i] = t.Post
	}
	return httpx.Respond(w, http.StatusOK, httpx.Page[BuyerPost]{Items: posts, NextCursor: page.NextCursor}, nil)
}

func (h *Handlers) post(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in NewPost
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	m := member(r)
	p, err := h.Svc.Post(r.Context(), m.ShopID, m.ID, id, in)
	return httpx.Respond(w, http.StatusCreated, p, err)
}

func (h *Handlers) reply(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in NewReply
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	m := member(r)
	p, err := h.Svc.Reply(r.Context(), m.ShopID, m.ID, id, in)
	return httpx.Respond(w, http.StatusCreated, p, err)
}

func (h *Handlers) like(like bool) httpx.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := httpx.PathID(r, "id")
		if err != nil {
			return err
		}
		m := member(r)
		res, err := h.Svc.Like(r.Context(), m.ShopID, m.ID, id, like)
		return httpx.Respond(w, http.StatusOK, res, err)
	}
}

func (h *Handlers) queue(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	course, err := httpx.QueryInt(r, "course_id", 0, 1, 1<<62)
	if err != nil {
		return err
	}
	list, err := h.Svc.Queue(r.Context(), auth.StaffShop(r.Context()), course, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, postID), err)
}

func postID(p Post) int64 { return p.ID }

func (h *Handlers) lessonPosts(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	list, err := h.Svc.LessonPosts(r.Context(), auth.StaffShop(r.Context()), id, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, postID), err)
}

func (h *Handlers) teacherReply(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in NewReply
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	p, err := h.Svc.TeacherReply(r.Context(), st.ShopID, st.AccountID, id, in)
	return httpx.Respond(w, http.StatusCreated, p, err)
}

func (h *Handlers) pin(pin bool) httpx.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := httpx.PathID(r, "id")
		if err != nil {
			return err
		}
		p, err := h.Svc.Pin(r.Context(), auth.StaffShop(r.Context()), id, pin)
		return httpx.Respond(w, http.StatusOK, p, err)
	}
}

func (h *Handlers) hide(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	p, err := h.Svc.Hide(r.Context(), auth.StaffShop(r.Context()), id)
	return httpx.Respond(w, http.StatusOK, p, err)
}
