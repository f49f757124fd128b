package aftersale

import (
	"net/http"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/payment"
	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves after-sales to buyers and staff.
type Handlers struct{ Svc *Service }

type rejectRequest struct {
	Reason string `json:"reason"`
}

var statusParam = httpx.PageParams(httpx.Param{Name: "status", Type: "string", Enum: Statuses})

// Routes registers the after-sales routes.
func (h *Handlers) Routes(api *httpx.API) {
	const mini, admin = "mini: after-sales", "admin: after-sales"
	notFound := []string{"aftersale_not_found"}
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/orders/{id}/aftersales", Tag: mini, Access: httpx.Member, Status: http.StatusCreated,
		Errors: map[int][]string{400: {"refund_exceeds_paid", "quantity_exceeds", "order_line_not_found", "amount_exceeds_lines", "nothing_to_refund"},
			404: {"order_not_found"}, 409: {"aftersale_open", "order_not_refundable", "order_not_shipped"}},
		Summary: "Ask for a refund, a return or an exchange on my order: the whole order (refund only, an amount) or lines with quantities",
		Request: NewRequest{}, Response: BuyerAftersale{}, Handler: h.create})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/aftersales", Tag: mini, Access: httpx.Member,
		Summary: "My after-sales requests, newest first", Query: httpx.PageParams(), Response: httpx.Page[BuyerAftersale]{}, Handler: h.listMine})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/aftersales/{id}", Tag: mini, Access: httpx.Member, Errors: map[int][]string{404: notFound},
		Summary: "One of my after-sales requests with its history and current deadline", Response: BuyerAftersale{}, Handler: h.getMine})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/aftersales/{id}/cancel", Tag: mini, Access: httpx.Member,
		Errors:  map[int][]string{404: notFound, 409: {"aftersale_not_open"}},
		Summary: "Withdraw my request (open, or approved and not yet shipped back)", Response: BuyerAftersale{}, Handler: h.cancel})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/aftersales/{id}/ship-back", Tag: mini, Access: httpx.Member,
		Errors:  map[int][]string{404: notFound, 409: {"aftersale_wrong_status"}},
		Summary: "I shipped the goods of my approved return or exchange back (carrier and tracking number)", Request: Shipment{},
		Response: BuyerAftersale{}, Handler: h.shipBack})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/aftersales/{id}/confirm", Tag: mini, Access: httpx.Member,
		Errors:  map[int][]string{404: notFound, 409: {"aftersale_wrong_status"}},
		Summary: "I received the replacement of my exchange", Response: BuyerAftersale{}, Handler: h.confirm})

	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/aftersales", Tag: admin, Access: httpx.Staff, Perm: auth.PermOrdersRead,
		Summary: "After-sales requests, newest first", Query: statusParam, Response: httpx.Page[Request]{}, Handler: h.list})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/aftersales/{id}", Tag: admin, Access: httpx.Staff, Perm: auth.PermOrdersRead,
		Errors: map[int][]string{404: notFound}, Summary: "An after-sales request with its lines, log and deadline", Response: Request{}, Handler: h.get})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/aftersales/{id}/approve", Tag: admin, Access: httpx.Staff, Perm: auth.PermOrdersManage,
		Errors: map[int][]string{400: {"refund_exceeds_paid"}, 403: {"refund_needs_approval"}, 404: notFound,
			409: {"aftersale_not_open", "order_not_refundable", "wechatpay_not_configured", "idempotency_key_reused"}},
		Summary: "Approve: a refund-only request's refund goes out; a return or an exchange waits for the goods", Response: Request{}, Handler: h.approve})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/aftersales/{id}/reject", Tag: admin, Access: httpx.Staff, Perm: auth.PermOrdersManage,
		Errors:  map[int][]string{400: {"reason_required"}, 404: notFound, 409: {"aftersale_not_open"}},
		Summary: "Reject with a reason the buyer sees", Request: rejectRequest{}, Response: Request{}, Handler: h.reject})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/aftersales/{id}/receive", Tag: admin, Access: httpx.Staff, Perm: auth.PermOrdersManage,
		Errors: map[int][]string{400: {"refund_exceeds_paid"}, 403: {"refund_needs_approval"}, 404: notFound,
			409: {"aftersale_wrong_status", "order_not_refundable", "idempotency_key_reused"}},
		Summary: "Confirm the goods came back: their stock returns, and a return's refund goes out", Response: Request{}, Handler: h.receive})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/aftersales/{id}/ship-exchange", Tag: admin, Access: httpx.Staff, Perm: auth.PermOrdersManage,
		Errors:  map[int][]string{404: notFound, 409: {"aftersale_wrong_status", "out_of_stock"}},
		Summary: "Ship the replacement of a received exchange (carrier and tracking number)", Request: Shipment{}, Response: Request{}, Handler: h.shipExchange})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/aftersale-settings", Tag: admin, Access: httpx.Staff, Perm: auth.PermOrdersRead,
		Summary: "The shop's after-sales time limits (auto-confirm of receipt, returns)", Response: Settings{}, Handler: h.settings})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/aftersale-settings", Tag: admin, Access: httpx.Staff, Perm: auth.PermShopSettings,
		Summary: "Change the shop's after-sales time limits (owner)", Request: Settings{}, Response: Settings{}, Handler: h.setSettings})
}

func (h *Handlers) create(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in NewRequest
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	m, _ := auth.MemberFrom(r.Context())
	v, err := h.Svc.Create(r.Context(), m.ShopID, m.ID, id, in)
	return httpx.Respond(w, http.StatusCreated, v.Buyer(), err)
}

func (h *Handlers) listMine(w http.ResponseWriter, r *http.Request) error {
	m, _ := auth.MemberFrom(r.Context())
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	rows, err := h.Svc.List(r.Context(), m.ShopID, m.ID, "", after, limit)
	page := httpx.PageOf(rows, limit, func(x Request) int64 { return x.ID })
	return httpx.Respond(w, http.StatusOK, httpx.Page[BuyerAftersale]{Items: buyerRequests(page.Items), NextCursor: page.NextCursor}, err)
}

func (h *Handlers) getMine(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	m, _ := auth.MemberFrom(r.Context())
	v, err := h.Svc.Get(r.Context(), m.ShopID, id, m.ID)
	return httpx.Respond(w, http.StatusOK, v.Buyer(), err)
}

// memberStep runs a buyer's step on their request and answers it as they see it.
func (h *Handlers) memberStep(w http.ResponseWriter, r *http.Request, body any, do func(m auth.Member, id int64) error) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if body != nil {
		if err := httpx.Decode(w, r, body, 0); err != nil {
			return err
		}
	}
	m, _ := auth.MemberFrom(r.Context())
	if err := do(m, id); err != nil {
		return err
	}
	v, err := h.Svc.Get(r.Context(), m.ShopID, id, m.ID)
	return httpx.Respond(w, http.StatusOK, v.Buyer(), err)
}

func (h *Handlers) cancel(w http.ResponseWriter, r *http.Request) error {
	return h.memberStep(w, r, nil, func(m auth.Member, id int64) error {
		return h.Svc.Cancel(r.Context(), m.ShopID, m.ID, id)
	})
}

func (h *Handlers) shipBack(w http.ResponseWriter, r *http.Request) error {
	var in Shipment
	return h.memberStep(w, r, &in, func(m auth.Member, id int64) error {
		return h.Svc.ShipBack(r.Context(), m.ShopID, m.ID, id, in)
	})
}

func (h *Handlers) confirm(w http.ResponseWriter, r *http.Request) error {
	return h.memberStep(w, r, nil, func(m auth.Member, id int64) error {
		return h.Svc.Confirm(r.Context(), m.ShopID, m.ID, id, order.MemberActor(m.ID))
	})
}

func (h *Handlers) list(w http.ResponseWriter, r *http.Request) error {
	status := r.URL.Query().Get("status")
	if status != "" && !validStatus(status) {
		return errs.Field("status", "invalid_query", "unknown status")
	}
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	rows, err := h.Svc.List(r.Context(), auth.StaffShop(r.Context()), 0, status, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(rows, limit, func(x Request) int64 { return x.ID }), err)
}

func validStatus(s string) bool {
	for _, x := range Statuses {
		if x == s {
			return true
		}
	}
	return false
}

func (h *Handlers) get(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	v, err := h.Svc.Get(r.Context(), auth.StaffShop(r.Context()), id, 0)
	return httpx.Respond(w, http.StatusOK, v, err)
}

// staffStep runs a staff step on a request of the staff's shop and
// answers the request. withRefund is the step's refund, if it sends one
// for req (checked against the staff member's refund limit first).
func (h *Handlers) staffStep(w http.ResponseWriter, r *http.Request, body any, withRefund func(req Request) bool,
	do func(st auth.Staff, id int64) error) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if body != nil {
		if err := httpx.Decode(w, r, body, 0); err != nil {
			return err
		}
	}
	st, _ := auth.StaffFrom(r.Context())
	if withRefund != nil {
		req, err := h.Svc.Get(r.Context(), st.ShopID, id, 0)
		if err != nil {
			return err
		}
		if withRefund(req) {
			if err := payment.CheckRefundLimit(r.Context(), h.Svc.db, st, req.OrderID, req.Amount); err != nil {
				return err
			}
		}
	}
	if err := do(st, id); err != nil {
		return err
	}
	v, err := h.Svc.Get(r.Context(), st.ShopID, id, 0)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) approve(w http.ResponseWriter, r *http.Request) error {
	return h.staffStep(w, r, nil, func(req Request) bool { return req.Type == RefundOnly }, func(st auth.Staff, id int64) error {
		return h.Svc.Approve(r.Context(), st.ShopID, id, order.StaffActor(st.AccountID))
	})
}

func (h *Handlers) reject(w http.ResponseWriter, r *http.Request) error {
	var in rejectRequest
	return h.staffStep(w, r, &in, nil, func(st auth.Staff, id int64) error {
		return h.Svc.Reject(r.Context(), st.ShopID, id, order.StaffActor(st.AccountID), in.Reason)
	})
}

func (h *Handlers) receive(w http.ResponseWriter, r *http.Request) error {
	return h.staffStep(w, r, nil, func(req Request) bool { return req.Type == ReturnRefund }, func(st auth.Staff, id int64) error {
		return h.Svc.Receive(r.Context(), st.ShopID, id, order.StaffActor(st.AccountID))
	})
}

func (h *Handlers) shipExchange(w http.ResponseWriter, r *http.Request) error {
	var in Shipment
	return h.staffStep(w, r, &in, nil, func(st auth.Staff, id int64) error {
		return h.Svc.ShipExchange(r.Context(), st.ShopID, id, order.StaffActor(st.AccountID), in)
	})
}

func (h *Handlers) settings(w http.ResponseWriter, r *http.Request) error {
	v, err := h.Svc.Settings(r.Context(), auth.StaffShop(r.Context()))
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) setSettings(w http.ResponseWriter, r *http.Request) error {
	var in Settings
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	v, err := h.Svc.SetSettings(r.Context(), auth.StaffShop(r.Context()), in)
	return httpx.Respond(w, http.StatusOK, v, err)
}
