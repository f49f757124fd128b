package segment

import (
	"net/http"
	"strings"

	"github.com/kaidian/kaidian/internal/member"
	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves the staff routes of tags, segments and the members search.
type Handlers struct{ Svc *Service }

// ruleErrors are the codes of a rule that cannot be evaluated.
var ruleErrors = []string{"unknown_condition", "invalid_condition_value", "unknown_tag", "unknown_category", "rule_too_large"}

type previewRequest struct {
	Rule Rule `json:"rule"`
}

var searchParams = httpx.PageParams(
	httpx.Param{Name: "phone", Type: "string", Description: "the whole phone number, or its last 4 digits"},
	httpx.Param{Name: "nickname", Type: "string", Description: "a part of the nickname"},
	httpx.Param{Name: "tag_id", Type: "integer", Description: "only members with this tag"},
	httpx.Param{Name: "segment_id", Type: "integer", Description: "only members of this segment"})

// Routes registers the routes.
func (h *Handlers) Routes(api *httpx.API) {
	const tag = "admin: members"
	read, write := auth.PermMembersRead, auth.PermMembersWrite
	add := func(method, path string, perm auth.Permission, summary string, r httpx.Route) {
		r.Method, r.Path, r.Tag, r.Access, r.Perm, r.Summary = method, path, tag, httpx.Staff, perm, summary
		api.Add(r)
	}
	tagNotFound := map[int][]string{404: {"tag_not_found"}}
	add("GET", "/admin/api/v1/member-tags", read, "The shop's member tags with their member counts (the whole list: at most 200)",
		httpx.Route{Response: []Tag{}, Handler: h.tags})
	add("POST", "/admin/api/v1/member-tags", write, "Create a member tag", httpx.Route{Status: http.StatusCreated,
		Errors: map[int][]string{400: {"tag_exists"}, 409: {"too_many_tags"}}, Request: TagInput{}, Response: Tag{}, Handler: h.createTag})
	add("PUT", "/admin/api/v1/member-tags/{id}", write, "Rename or recolor a member tag", httpx.Route{
		Errors: map[int][]string{400: {"tag_exists"}, 404: {"tag_not_found"}}, Request: TagInput{}, Response: Tag{}, Handler: h.updateTag})
	add("DELETE", "/admin/api/v1/member-tags/{id}", write, "Delete a member tag (taken off its members; segments naming it then select nobody by it)",
		httpx.Route{Status: http.StatusNoContent, Errors: tagNotFound, Handler: h.deleteTag})
	add("POST", "/admin/api/v1/member-tags/{id}/members", write, "Tag members (1 to 1000 ids)", httpx.Route{
		Errors: map[int][]string{400: {"invalid_member_ids", "unknown_member"}, 404: {"tag_not_found"}}, Request: MemberIDsInput{}, Response: Changed{}, Handler: h.tagMembers})
	add("POST", "/admin/api/v1/member-tags/{id}/members/remove", write, "Take a tag off members (1 to 1000 ids)", httpx.Route{
		Errors: map[int][]string{400: {"invalid_member_ids", "unknown_member"}, 404: {"tag_not_found"}}, Request: MemberIDsInput{}, Response: Changed{}, Handler: h.untagMembers})
	add("GET", "/admin/api/v1/member-tags/{id}/members", read, "Members with a tag, newest first", httpx.Route{
		Query: httpx.PageParams(), Errors: tagNotFound, Response: httpx.Page[member.StaffMember]{}, Handler: h.tagMembersList})

	segNotFound := map[int][]string{404: {"segment_not_found"}}
	saveErrors := map[int][]string{400: append([]string{"invalid_name", "segment_exists"}, ruleErrors...)}
	add("GET", "/admin/api/v1/segments", read, "The shop's segments, the whole list (at most 100; count each with GET /segments/{id})",
		httpx.Route{Response: []Segment{}, Handler: h.segments})
	add("POST", "/admin/api/v1/segments/preview", read, "Count the members a rule selects now and show the newest 20",
		httpx.Route{Errors: map[int][]string{400: ruleErrors}, Request: previewRequest{}, Response: Preview{}, Handler: h.preview})
	add("POST", "/admin/api/v1/segments", write, "Save a segment", httpx.Route{Status: http.StatusCreated,
		Errors: map[int][]string{400: saveErrors[400], 409: {"too_many_segments"}}, Request: SegmentInput{}, Response: Segment{}, Handler: h.createSegment})
	add("GET", "/admin/api/v1/segments/{id}", read, "A segment with its member count, counted now",
		httpx.Route{Errors: segNotFound, Response: Segment{}, Handler: h.segment})
	add("PUT", "/admin/api/v1/segments/{id}", write, "Change a segment's name and rule", httpx.Route{
		Errors: map[int][]string{400: saveErrors[400], 404: {"segment_not_found"}}, Request: SegmentInput{}, Response: Segment{}, Handler: h.updateSegment})
	add("DELETE", "/admin/api/v1/segments/{id}", write, "Delete a segment",
		httpx.Route{Status: http.StatusNoContent, Errors: segNotFound, Handler: h.deleteSegment})
	add("GET", "/admin/api/v1/segments/{id}/members", read, "A segment's members now, newest first", httpx.Route{
		Query: httpx.PageParams(), Errors: segNotFound, Response: httpx.Page[member.StaffMember]{}, Handler: h.segmentMembers})

	memberNotFound := map[int][]string{404: {"member_not_found"}}
	add("GET", "/admin/api/v1/members/search", read, "Search members by phone (whole or last 4 digits), nickname, tag and segment, newest first", httpx.Route{
		Query: searchParams, Errors: map[int][]string{400: {"invalid_phone", "invalid_nickname"}, 404: {"tag_not_found", "segment_not_found"}},
		Response: httpx.Page[member.StaffMember]{}, Handler: h.search})
	add("GET", "/admin/api/v1/members/{id}/tags", read, "A member's tags (the whole list: at most 200)", httpx.Route{Errors: memberNotFound, Response: []Tag{}, Handler: h.memberTags})
	add("PUT", "/admin/api/v1/members/{id}/tags", write, "Set a member's tags (the whole set)", httpx.Route{
		Errors: map[int][]string{400: {"invalid_tag_ids", "tag_not_found"}, 404: {"member_not_found"}}, Request: TagIDsInput{}, Response: []Tag{}, Handler: h.setMemberTags})
	add("GET", "/admin/api/v1/members/{id}/orders", read, "A member's orders, newest first", httpx.Route{
		Query: httpx.PageParams(), Errors: memberNotFound, Response: httpx.Page[MemberOrder]{}, Handler: h.memberOrders})
	add("GET", "/admin/api/v1/members/{id}/spending", read, "What a member has paid (paid orders, net of refunds)", httpx.Route{
		Errors: memberNotFound, Response: Spending{}, Handler: h.memberSpending})
}

func shopOf(r *http.Request) int64 { return auth.StaffShop(r.Context()) }

func (h *Handlers) tags(w http.ResponseWriter, r *http.Request) error {
	v, err := h.Svc.Tags(r.Context(), shopOf(r))
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) createTag(w http.ResponseWriter, r *http.Request) error {
	var in TagInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	v, err := h.Svc.CreateTag(r.Context(), shopOf(r), in)
	return httpx.Respond(w, http.StatusCreated, v, err)
}

func (h *Handlers) updateTag(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in TagInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	v, err := h.Svc.UpdateTag(r.Context(), shopOf(r), id, in)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) deleteTag(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.Svc.DeleteTag(r.Context(), shopOf(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) bulk(w http.ResponseWriter, r *http.Request, fn func(shopID, id int64, ids []int64) (Changed, error)) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in MemberIDsInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	v, err := fn(shopOf(r), id, in.MemberIDs)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) tagMembers(w http.ResponseWriter, r *http.Request) error {
	return h.bulk(w, r, func(shopID, id int64, ids []int64) (Changed, error) {
		return h.Svc.TagMembers(r.Context(), shopID, id, ids)
	})
}

func (h *Handlers) untagMembers(w http.ResponseWriter, r *http.Request) error {
	return h.bulk(w, r, func(shopID, id int64, ids []int64) (Changed, error) {
		return h.Svc.UntagMembers(r.Context(), shopID, id, ids)
	})
}

func (h *Handlers) page(w http.ResponseWriter, r *http.Request, f Filter) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	page, err := h.Svc.Search(r.Context(), shopOf(r), f, after, limit)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, httpx.NewPage(page.Items, page.Next))
	return nil
}

func (h *Handlers) tagMembersList(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	return h.page(w, r, Filter{TagID: id})
}

func (h *Handlers) segmentMembers(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	return h.page(w, r, Filter{SegmentID: id})
}

func (h *Handlers) search(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := Filter{Phone: strings.TrimSpace(q.Get("phone")), Nickname: strings.TrimSpace(q.Get("nickname"))}
	var err error
	if f.TagID, err = httpx.QueryInt(r, "tag_id", 0, 1, 1<<53); err != nil {
		return err
	}
	if f.SegmentID, err = httpx.QueryInt(r, "segment_id", 0, 1, 1<<53); err != nil {
		return err
	}
	return h.page(w, r, f)
}

func (h *Handlers) segments(w http.ResponseWriter, r *http.Request) error {
	v, err := h.Svc.Segments(r.Context(), shopOf(r))
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) preview(w http.ResponseWriter, r *http.Request) error {
	var in previewRequest
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	v, err := h.Svc.PreviewRule(r.Context(), shopOf(r), in.Rule)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) createSegment(w http.ResponseWriter, r *http.Request) error {
	var in SegmentInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	v, err := h.Svc.CreateSegment(r.Context(), shopOf(r), in)
	return httpx.Respond(w, http.StatusCreated, v, err)
}

func (h *Handlers) segment(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	v, err := h.Svc.Segment(r.Context(), shopOf(r), id)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) updateSegment(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in SegmentInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	v, err := h.Svc.UpdateSegment(r.Context(), shopOf(r), id, in)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) deleteSegment(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.Svc.DeleteSegment(r.Context(), shopOf(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) memberTags(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	v, err := h.Svc.MemberTags(r.Context(), shopOf(r), id)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) setMemberTags(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in TagIDsInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	v, err := h.Svc.SetMemberTags(r.Context(), shopOf(r), id, in.TagIDs)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) memberOrders(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	page, err := h.Svc.MemberOrders(r.Context(), shopOf(r), id, after, limit)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, httpx.NewPage(page.Items, page.Next))
	return nil
}

func (h *Handlers) memberSpending(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	v, err := h.Svc.MemberSpending(r.Context(), shopOf(r), id)
	return httpx.Respond(w, http.StatusOK, v, err)
}
