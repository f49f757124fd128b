package messaging

import (
	"net/http"
	"strings"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves the buyer's subscriptions and inbox, and staff's
// templates and dead letters.
type Handlers struct{ Svc *Service }

// TemplateList is every message kind with its template.
type TemplateList struct {
	Templates []Template `json:"templates"`
}

// Routes registers the messaging routes.
func (h *Handlers) Routes(api *httpx.API) {
	const mini, admin = "mini: messages", "admin: messages"
	notFound := map[int][]string{404: {"message_not_found"}}
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/me/subscriptions", Tag: mini, Access: httpx.Member,
		Errors:  map[int][]string{400: {"invalid_results", "unknown_template"}},
		Summary: "Report what wx.requestSubscribeMessage answered: each accept lets one message of that template through",
		Request: ReportInput{}, Response: BuyerSubscriptions{}, Handler: h.report})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/subscriptions", Tag: mini, Access: httpx.Member,
		Summary: "My acceptances left per template of the shop", Response: BuyerSubscriptions{}, Handler: h.subscriptions})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/subscriptions/next", Tag: mini, Access: httpx.Member,
		Errors: map[int][]string{400: {"unknown_kind"}},
		Query: []httpx.Param{{Name: "kind", Type: "string", Enum: Kinds,
			Description: "message kinds the next action leads to, comma-separated (all when absent)"}},
		Summary:  "Which templates to pass to wx.requestSubscribeMessage next (at most 3, fewest acceptances left first)",
		Response: NextTemplates{}, Handler: h.next})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/messages", Tag: mini, Access: httpx.Member,
		Summary: "My inbox (站内信), newest first", Query: httpx.PageParams(), Response: httpx.Page[BuyerMessage]{}, Handler: h.inbox})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/messages/unread", Tag: mini, Access: httpx.Member,
		Summary: "How many inbox messages I have not read", Response: Unread{}, Handler: h.unread})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/me/messages/{id}/read", Tag: mini, Access: httpx.Member, Errors: notFound,
		Summary: "Mark an inbox message read", Response: Unread{}, Handler: h.markRead})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/me/messages/read-all", Tag: mini, Access: httpx.Member,
		Summary: "Mark my whole inbox read", Response: Unread{}, Handler: h.markAllRead})

	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/messages/templates", Tag: admin, Access: httpx.Staff, Perm: auth.PermShopRead,
		Summary: "Each message kind's subscription template and keyword mapping", Response: TemplateList{}, Handler: h.templates})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/messages/templates", Tag: admin, Access: httpx.Staff, Perm: auth.PermShopSettings,
		Errors:  map[int][]string{400: {"invalid_fields"}},
		Summary: "Set a kind's subscription template: its id and which order field fills each keyword",
		Request: TemplateInput{}, Response: Template{}, Handler: h.setTemplate})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/messages/templates/preview", Tag: admin, Access: httpx.Staff, Perm: auth.PermShopRead,
		Errors:  map[int][]string{400: {"invalid_fields"}, 404: {"order_not_found"}},
		Summary: "Render a template with an order (or a sample) and list the keywords WeChat would refuse",
		Request: PreviewInput{}, Response: Preview{}, Handler: h.preview})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/messages/dead-letters", Tag: admin, Access: httpx.Staff, Perm: auth.PermShopRead,
		Summary: "Messages WeChat refused (or that were given up on), newest first, with the reason",
		Query:   httpx.PageParams(), Response: httpx.Page[Message]{}, Handler: h.deadLetters})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/messages/{id}", Tag: admin, Access: httpx.Staff, Perm: auth.PermShopRead,
		Errors: notFound, Summary: "One message with every attempt", Response: Message{}, Handler: h.message})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/messages/{id}/retry", Tag: admin, Access: httpx.Staff, Perm: auth.PermShopSettings,
		Errors:   map[int][]string{404: notFound[404], 409: {"message_not_dead"}},
		Summary:  "Send a dead letter again (its channel chosen anew: the inbox when no acceptance is left)",
		Response: Message{}, Handler: h.retry})
	h.oaRoutes(api)
}

func member(r *http.Request) auth.Member {
	m, _ := auth.MemberFrom(r.Context())
	return m
}

func shopOf(r *http.Request) int64 {
	st, _ := auth.StaffFrom(r.Context())
	return st.ShopID
}

func (h *Handlers) report(w http.ResponseWriter, r *http.Request) error {
	var in ReportInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	m := member(r)
	subs, err := h.Svc.Report(r.Context(), m.ShopID, m.ID, in)
	return httpx.Respond(w, http.StatusOK, BuyerSubscriptions{Subscriptions: subs}, err)
}

func (h *Handlers) subscriptions(w http.ResponseWriter, r *http.Request) error {
	m := member(r)
	subs, err := h.Svc.Subscriptions(r.Context(), m.ShopID, m.ID)
	return httpx.Respond(w, http.StatusOK, BuyerSubscriptions{Subscriptions: subs}, err)
}

func (h *Handlers) next(w http.ResponseWriter, r *http.Request) error {
	var kinds []string
	for _, k := range strings.Split(r.URL.Query().Get("kind"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			kinds = append(kinds, k)
		}
	}
	m := member(r)
	subs, err := h.Svc.Next(r.Context(), m.ShopID, m.ID, kinds)
	out := NextTemplates{TemplateIDs: []string{}, Subscriptions: subs}
	for _, s := range subs {
		out.TemplateIDs = append(out.TemplateIDs, s.TemplateID)
	}
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) inbox(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	m := member(r)
	list, err := h.Svc.Inbox(r.Context(), m.ShopID, m.ID, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, func(x BuyerMessage) int64 { return x.ID }), err)
}

func (h *Handlers) unread(w http.ResponseWriter, r *http.Request) error {
	m := member(r)
	n, err := h.Svc.Unread(r.Context(), m.ShopID, m.ID)
	return httpx.Respond(w, http.StatusOK, n, err)
}

func (h *Handlers) markRead(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	m := member(r)
	n, err := h.Svc.MarkRead(r.Context(), m.ShopID, m.ID, id)
	return httpx.Respond(w, http.StatusOK, n, err)
}

func (h *Handlers) markAllRead(w http.ResponseWriter, r *http.Request) error {
	m := member(r)
	n, err := h.Svc.MarkAllRead(r.Context(), m.ShopID, m.ID)
	return httpx.Respond(w, http.StatusOK, n, err)
}

func (h *Handlers) templates(w http.ResponseWriter, r *http.Request) error {
	list, err := h.Svc.Templates(r.Context(), shopOf(r))
	return httpx.Respond(w, http.StatusOK, TemplateList{Templates: list}, err)
}

func (h *Handlers) setTemplate(w http.ResponseWriter, r *http.Request) error {
	var in TemplateInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	t, err := h.Svc.SetTemplate(r.Context(), shopOf(r), in)
	return httpx.Respond(w, http.StatusOK, t, err)
}

func (h *Handlers) preview(w http.ResponseWriter, r *http.Request) error {
	var in PreviewInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	p, err := h.Svc.PreviewTemplate(r.Context(), shopOf(r), in)
	return httpx.Respond(w, http.StatusOK, p, err)
}

func (h *Handlers) deadLetters(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	list, err := h.Svc.DeadLetters(r.Context(), shopOf(r), after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, func(m Message) int64 { return m.ID }), err)
}

func (h *Handlers) message(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	m, err := h.Svc.Message(r.Context(), shopOf(r), id)
	return httpx.Respond(w, http.StatusOK, m, err)
}

func (h *Handlers) retry(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	m, err := h.Svc.Retry(r.Context(), shopOf(r), id)
	return httpx.Respond(w, http.StatusOK, m, err)
}
