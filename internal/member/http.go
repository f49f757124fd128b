package member

import (
	"net/http"
	"strings"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
	"github.com/kaidian/kaidian/internal/platform/mask"
)

// Handlers serves the buyer login routes and the staff member routes.
type Handlers struct{ Svc *Service }

type codeRequest struct {
	Code string `json:"code"`
}

// loginRequest is the wx.login code and, optionally, how the user arrived
// (kept only when this login creates the member).
type loginRequest struct {
	Code   string  `json:"code"`
	Source *Source `json:"source,omitempty" doc:"how the user arrived: recorded on the first login only"`
}

type noteRequest struct {
	Body string `json:"body" doc:"1 to 500 characters, staff only"`
}

type revokeResponse struct {
	Revoked int64 `json:"revoked"`
}

// Routes registers the member routes.
func (h *Handlers) Routes(api *httpx.API) {
	const tag = "mini: account"
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/auth/login", Errors: map[int][]string{400: {"invalid_login_code", "invalid_source"}, 403: {"wechat_risky_user"}, 429: {"wechat_rate_limited"}, 503: {"wechat_busy"}}, Tag: tag, Access: httpx.Shop,
		Summary: "Log in with the code from wx.login (and, on the first login, how the user arrived)", Request: loginRequest{}, Response: LoginResult{}, Handler: h.login})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/auth/logout", Tag: tag, Access: httpx.Member,
		Summary: "End this session", Status: http.StatusNoContent, Handler: h.logout})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me", Tag: tag, Access: httpx.Member,
		Summary: "My profile", Response: Member{}, Handler: h.me})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/me/phone", Tag: tag, Access: httpx.Member,
		Summary: "Bind my phone number with the code from the getPhoneNumber button", Request: codeRequest{}, Response: Member{}, Handler: h.bindPhone})

	api.Add(httpx.Route{Method: "PUT", Path: "/api/v1/me/birthday", Tag: tag, Access: httpx.Member,
		Summary: "Set my birthday (MM-DD) for birthday coupons", Request: birthdayRequest{}, Response: Member{}, Handler: h.setBirthday})

	const staffTag = "admin: members"
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/members", Tag: staffTag, Access: httpx.Staff, Perm: auth.PermMembersRead,
		Summary: "List the shop's members, newest first", Response: httpx.Page[StaffMember]{},
		Query: httpx.PageParams(), Handler: h.list})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/members/{id}", Tag: staffTag, Access: httpx.Staff, Perm: auth.PermMembersRead,
		Summary: "Get a member", Response: StaffMember{}, Handler: h.get})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/members/{id}/notes", Tag: staffTag, Access: httpx.Staff, Perm: auth.PermMembersRead,
		Summary: "A member's staff notes, newest first (the whole list: at most 200)", Errors: map[int][]string{404: {"member_not_found"}}, Response: []Note{}, Handler: h.notes})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/members/{id}/notes", Tag: staffTag, Access: httpx.Staff, Perm: auth.PermMembersWrite,
		Summary: "Write a staff note on a member (never shown to the buyer)", Status: http.StatusCreated,
		Errors:  map[int][]string{400: {"invalid_note"}, 404: {"member_not_found"}, 409: {"too_many_notes"}},
		Request: noteRequest{}, Response: Note{}, Handler: h.addNote})
	api.Add(httpx.Route{Method: "DELETE", Path: "/admin/api/v1/member-notes/{id}", Tag: staffTag, Access: httpx.Staff, Perm: auth.PermMembersWrite,
		Summary: "Delete a staff note", Status: http.StatusNoContent, Errors: map[int][]string{404: {"note_not_found"}}, Handler: h.deleteNote})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/members/{id}/reveal", Tag: staffTag, Access: httpx.Staff, Perm: auth.PermReveal, Reveals: true,
		Summary: "Show a member's phone in full, giving the reason (recorded in the audit log)", Errors: map[int][]string{400: {"reason_required"}, 404: {"member_not_found"}},
		Request: mask.RevealRequest{}, Response: Revealed{}, Handler: h.reveal})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/members/{id}/revoke-sessions", Tag: staffTag, Access: httpx.Staff, Perm: auth.PermSessions,
		Summary: "Log a member out everywhere", Response: revokeResponse{}, Handler: h.revoke})
}

func (h *Handlers) login(w http.ResponseWriter, r *http.Request) error {
	var in loginRequest
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	var src Source
	if in.Source != nil {
		src = *in.Source
	}
	res, err := h.Svc.LoginFrom(r.Context(), auth.ShopFrom(r.Context()), strings.TrimSpace(in.Code), src)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}

type birthdayRequest struct {
	Birthday string `json:"birthday" doc:"MM-DD; empty clears it"`
}

func (h *Handlers) setBirthday(w http.ResponseWriter, r *http.Request) error {
	var in birthdayRequest
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	m, _ := auth.MemberFrom(r.Context())
	v, err := h.Svc.SetBirthday(r.Context(), m.ShopID, m.ID, strings.TrimSpace(in.Birthday))
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) logout(w http.ResponseWriter, r *http.Request) error {
	tok, _ := httpx.BearerToken(r)
	if err := h.Svc.Logout(r.Context(), tok); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) me(w http.ResponseWriter, r *http.Request) error {
	m, _ := auth.MemberFrom(r.Context())
	got, err := h.Svc.Get(r.Context(), m.ShopID, m.ID)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, got)
	return nil
}

func (h *Handlers) bindPhone(w http.ResponseWriter, r *http.Request) error {
	var in codeRequest
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	m, _ := auth.MemberFrom(r.Context())
	got, err := h.Svc.BindPhone(r.Context(), m, strings.TrimSpace(in.Code))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, got)
	return nil
}

func (h *Handlers) list(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	page, err := h.Svc.List(r.Context(), auth.StaffShop(r.Context()), after, limit)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, httpx.NewPage(page.Items, page.Next))
	return nil
}

func (h *Handlers) get(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	m, err := h.Svc.GetStaff(r.Context(), auth.StaffShop(r.Context()), id)
	return httpx.Respond(w, http.StatusOK, m, err)
}

func (h *Handlers) notes(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	notes, err := h.Svc.Notes(r.Context(), auth.StaffShop(r.Context()), id)
	return httpx.Respond(w, http.StatusOK, notes, err)
}

func (h *Handlers) addNote(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in noteRequest
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	n, err := h.Svc.AddNote(r.Context(), st.ShopID, id, st.AccountID, st.Username, in.Body)
	return httpx.Respond(w, http.StatusCreated, n, err)
}

func (h *Handlers) deleteNote(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.Svc.DeleteNote(r.Context(), auth.StaffShop(r.Context()), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) revoke(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	n, err := h.Svc.RevokeSessions(r.Context(), auth.StaffShop(r.Context()), id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, revokeResponse{Revoked: n})
	return nil
}

func (h *Handlers) reveal(w http.ResponseWriter, r *http.Request) error {
	id, err := mask.ReadReveal(w, r)
	if err != nil {
		return err
	}
	v, err := h.Svc.RevealPhone(r.Context(), auth.StaffShop(r.Context()), id)
	return httpx.Respond(w, http.StatusOK, v, err)
}
