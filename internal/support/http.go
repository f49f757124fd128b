package support

import (
	"math"
	"net/http"
	"slices"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves the help desk routes: shop staff open and follow their
// shop's tickets; the operator and agencies (acting on the shop with
// X-Shop-Id) answer them and set the shop's SLA policy.
type Handlers struct{ Svc *Service }

// ReplyInput is a reply.
type ReplyInput struct {
	Body string `json:"body"`
}

// StatusInput is a change of status.
type StatusInput struct {
	Status string `json:"status" enum:"in_progress,waiting_client,resolved,closed,reopened" doc:"the provider: in_progress, waiting_client (stops the resolution clock), resolved; the shop: closed, reopened"`
}

// Routes registers the routes.
func (h *Handlers) Routes(api *httpx.API) {
	const tag = "admin: support tickets"
	notFound := map[int][]string{404: {"ticket_not_found"}}
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/tickets", Tag: tag, Access: httpx.Staff, Perm: auth.PermTickets,
		Summary: "The shop's tickets, newest first, with their deadlines judged as of now",
		Query: append([]httpx.Param{{Name: "status", Type: "string", Description: "active (neither resolved nor closed), or one status",
			Enum: []string{"active", "open", "in_progress", "waiting_client", "resolved", "closed"}}}, httpx.PageParams()...),
		Errors: map[int][]string{400: {"invalid_status"}}, Response: httpx.Page[Ticket]{}, Handler: h.list})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/tickets", Tag: tag, Access: httpx.Staff, Perm: auth.PermTickets,
		Summary: "Open a ticket: its first-response and resolution deadlines come from the shop's SLA policy, in working time",
		Errors:  map[int][]string{400: {"invalid_kind", "invalid_priority", "invalid_title", "invalid_body", "invalid_page", "too_many_screenshots", "media_not_found"}},
		Request: NewTicket{}, Response: Ticket{}, Status: http.StatusCreated, Handler: h.open})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/tickets/report", Tag: tag, Access: httpx.Staff, Perm: auth.PermTickets,
		Summary: "A month's tickets by priority: opened, answered, resolved and the deadlines missed",
		Query:   []httpx.Param{{Name: "month", Type: "string", Description: "YYYY-MM (Asia/Shanghai)"}},
		Errors:  map[int][]string{400: {"invalid_month"}}, Response: MonthReport{}, Handler: h.report})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/tickets/{id}", Tag: tag, Access: httpx.Staff, Perm: auth.PermTickets,
		Summary: "A ticket with its messages", Errors: notFound, Response: Ticket{}, Handler: h.get})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/tickets/{id}/messages", Tag: tag, Access: httpx.Staff, Perm: auth.PermTickets,
		Summary: "Reply: the provider's first reply is the first response; the shop's reply to a ticket waiting for it restarts the clock",
		Errors:  map[int][]string{400: {"invalid_body"}, 404: {"ticket_not_found"}, 409: {"illegal_transition"}},
		Request: ReplyInput{}, Response: Ticket{}, Status: http.StatusCreated, Handler: h.reply})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/tickets/{id}/status", Tag: tag, Access: httpx.Staff, Perm: auth.PermTickets,
		Summary: "Change the status (the provider: in_progress, waiting_client, resolved; the shop: closed, reopened)",
		Errors:  map[int][]string{400: {"invalid_status"}, 403: {"not_your_side"}, 404: {"ticket_not_found"}, 409: {"illegal_transition"}},
		Request: StatusInput{}, Response: Ticket{}, Handler: h.status})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/tickets/{id}/estimate", Tag: tag, Access: httpx.Staff, Perm: auth.PermTickets,
		Summary: "Give a change request its estimate (the provider); the shop approves it before work starts",
		Errors:  map[int][]string{400: {"invalid_estimate"}, 403: {"not_your_side"}, 404: {"ticket_not_found"}, 409: {"not_a_change_request", "illegal_transition"}},
		Request: EstimateInput{}, Response: Ticket{}, Handler: h.estimate})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/tickets/{id}/approve-estimate", Tag: tag, Access: httpx.Staff, Perm: auth.PermTickets,
		Summary:  "Approve a change request's estimate (the shop): work may start",
		Errors:   map[int][]string{403: {"not_your_side"}, 404: {"ticket_not_found"}, 409: {"no_estimate", "illegal_transition"}},
		Response: Ticket{}, Handler: h.approve})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/tickets/{id}/time", Tag: tag, Access: httpx.Staff, Perm: auth.PermTickets,
		Summary: "Record time spent on a ticket (the provider): it goes to the month's statement",
		Errors:  map[int][]string{400: {"invalid_minutes", "invalid_note", "invalid_spent_at"}, 403: {"not_your_side"}, 404: {"ticket_not_found"}, 409: {"estimate_not_approved"}},
		Request: TimeInput{}, Response: Ticket{}, Status: http.StatusCreated, Handler: h.logTime})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/support-contract", Tag: tag, Access: httpx.Staff, Perm: auth.PermTickets,
		Summary: "The shop's maintenance contract: free period, package, hourly rate", Errors: map[int][]string{404: {"no_contract"}},
		Response: Contract{}, Handler: h.contract})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/support-contract", Tag: tag, Access: httpx.Staff, Perm: auth.PermTickets,
		Summary: "Set the shop's maintenance contract (the provider)", Errors: map[int][]string{400: {"invalid_package"}, 403: {"not_your_side"}},
		Request: Contract{}, Response: Contract{}, Handler: h.setContract})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/support-statement", Tag: tag, Access: httpx.Staff, Perm: auth.PermTickets,
		Summary: "A month's work, ready to invoice: each time entry free, in the package or billed at the hourly rate; the package's balance",
		Query:   []httpx.Param{{Name: "month", Type: "string", Description: "YYYY-MM (Asia/Shanghai)"}},
		Errors:  map[int][]string{400: {"invalid_month"}, 404: {"no_contract"}}, Response: Statement{}, Handler: h.statement})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/sla-policy", Tag: tag, Access: httpx.Staff, Perm: auth.PermTickets,
		Summary: "The shop's SLA: working hours, targets per priority, its own days over the built-in holidays", Response: Policy{}, Handler: h.policy})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/sla-policy", Tag: tag, Access: httpx.Staff, Perm: auth.PermTickets,
		Summary: "Set the shop's SLA (the provider; open tickets keep their deadlines)",
		Errors:  map[int][]string{400: {"calendar_no_working_time", "invalid_targets", "invalid_day"}, 403: {"not_your_side"}},
		Request: Policy{}, Response: Policy{}, Handler: h.setPolicy})
}

// side says who the caller is: the provider (an operator, or an agency
// login acting on the shop) or the shop's own staff.
func side(r *http.Request) (int64, Side) {
	st, _ := auth.StaffFrom(r.Context())
	return st.ShopID, Side{AccountID: st.AccountID, Provider: st.Role == auth.RoleOperator || st.Agency}
}

func (h *Handlers) list(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	if after == 0 {
		after = math.MaxInt64
	}
	status := r.URL.Query().Get("status")
	if status != "" && !slices.Contains([]string{"active", "open", "in_progress", "waiting_client", "resolved", "closed"}, status) {
		return errs.Field("status", "invalid_status", "status is active, open, in_progress, waiting_client, resolved or closed")
	}
	shop, _ := side(r)
	rows, err := h.Svc.List(r.Context(), shop, status, after, limit+1)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(rows, limit, func(t Ticket) int64 { return t.ID }), err)
}

func (h *Handlers) open(w http.ResponseWriter, r *http.Request) error {
	var in NewTicket
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	shop, who := side(r)
	t, err := h.Svc.Open(r.Context(), shop, who.AccountID, in)
	return httpx.Respond(w, http.StatusCreated, t, err)
}

func (h *Handlers) get(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	shop, _ := side(r)
	t, err := h.Svc.Get(r.Context(), shop, id)
	return httpx.Respond(w, http.StatusOK, t, err)
}

func (h *Handlers) reply(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in ReplyInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	shop, who := side(r)
	t, err := h.Svc.Reply(r.Context(), shop, id, who, in.Body)
	return httpx.Respond(w, http.StatusCreated, t, err)
}

func (h *Handlers) status(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in StatusInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	shop, who := side(r)
	t, err := h.Svc.SetStatus(r.Context(), shop, id, who, in.Status)
	return httpx.Respond(w, http.StatusOK, t, err)
}

func (h *Handlers) report(w http.ResponseWriter, r *http.Request) error {
	shop, _ := side(r)
	rep, err := h.Svc.Report(r.Context(), shop, r.URL.Query().Get("month"))
	return httpx.Respond(w, http.StatusOK, rep, err)
}

func (h *Handlers) policy(w http.ResponseWriter, r *http.Request) error {
	shop, _ := side(r)
	p, err := h.Svc.Policy(r.Context(), shop)
	return httpx.Respond(w, http.StatusOK, p, err)
}

func (h *Handlers) setPolicy(w http.ResponseWriter, r *http.Request) error {
	var in Policy
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	shop, who := side(r)
	if !who.Provider {
		return errProviderOnly
	}
	p, err := h.Svc.SetPolicy(r.Context(), shop, who.AccountID, in)
	return httpx.Respond(w, http.StatusOK, p, err)
}

// EstimateInput is a change request's estimate.
type EstimateInput struct {
	Minutes int64 `json:"minutes"`
}

var errProviderOnly = errs.E(errs.Forbidden, "not_your_side", "only the provider (the operator or its agency) does this")
var errClientOnly = errs.E(errs.Forbidden, "not_your_side", "only the shop's own staff do this")

// ticketAction reads the ticket id and the caller, checking the side.
func ticketAction(r *http.Request, provider bool) (int64, int64, Side, error) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return 0, 0, Side{}, err
	}
	shop, who := side(r)
	switch {
	case provider && !who.Provider:
		return 0, 0, who, errProviderOnly
	case !provider && who.Provider:
		return 0, 0, who, errClientOnly
	}
	return id, shop, who, nil
}

func (h *Handlers) estimate(w http.ResponseWriter, r *http.Request) error {
	var in EstimateInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	id, shop, _, err := ticketAction(r, true)
	if err != nil {
		return err
	}
	t, err := h.Svc.SetEstimate(r.Context(), shop, id, in.Minutes)
	return httpx.Respond(w, http.StatusOK, t, err)
}

func (h *Handlers) approve(w http.ResponseWriter, r *http.Request) error {
	id, shop, _, err := ticketAction(r, false)
	if err != nil {
		return err
	}
	t, err := h.Svc.ApproveEstimate(r.Context(), shop, id)
	return httpx.Respond(w, http.StatusOK, t, err)
}

func (h *Handlers) logTime(w http.ResponseWriter, r *http.Request) error {
	var in TimeInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	id, shop, who, err := ticketAction(r, true)
	if err != nil {
		return err
	}
	t, err := h.Svc.LogTime(r.Context(), shop, id, who.AccountID, in)
	return httpx.Respond(w, http.StatusCreated, t, err)
}

func (h *Handlers) contract(w http.ResponseWriter, r *http.Request) error {
	shop, _ := side(r)
	c, err := h.Svc.Contract(r.Context(), shop)
	return httpx.Respond(w, http.StatusOK, c, err)
}

func (h *Handlers) setContract(w http.ResponseWriter, r *http.Request) error {
	var in Contract
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	shop, who := side(r)
	if !who.Provider {
		return errProviderOnly
	}
	c, err := h.Svc.SetContract(r.Context(), shop, who.AccountID, in)
	return httpx.Respond(w, http.StatusOK, c, err)
}

func (h *Handlers) statement(w http.ResponseWriter, r *http.Request) error {
	shop, _ := side(r)
	st, err := h.Svc.Statement(r.Context(), shop, r.URL.Query().Get("month"))
	return httpx.Respond(w, http.StatusOK, st, err)
}
