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

var statusParam = httpx.PageParams(httpx.Param{Name: "status", Type: "string", Enum: []string{Requested, Approved, Rejected, Cancelled}})

// Routes registers the after-sales routes.
func (h *Handlers) Routes(api *httpx.API) {
	const mini, admin = "mini: after-sales", "admin: after-sales"
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/orders/{id}/aftersales", Errors: map[int][]string{400: {"refund_exceeds_paid"}, 404: {"order_not_found"}, 409: {"aftersale_open", "order_not_refundable"}}, Tag: mini, Access: httpx.Member, Status: http.StatusCreated,
		Summary: "Ask for a refund on my paid order (reason, amount, photos)", Request: NewRequest{}, Response: BuyerAftersale{}, Handler: h.create})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/aftersales", Tag: mini, Access: httpx.Member,
		Summary: "My after-sales requests, newest first", Query: httpx.PageParams(), Response: httpx.Page[BuyerAftersale]{}, Handler: h.listMine})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/aftersales/{id}", Tag: mini, Access: httpx.Member,
		Summary: "One of my after-sales requests with its history", Response: BuyerAftersale{}, Handler: h.getMine})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/aftersales/{id}/cancel", Tag: mini, Access: httpx.Member,
		Summary: "Withdraw my open request", Response: BuyerAftersale{}, Handler: h.cancel})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/aftersales", Tag: admin, Access: httpx.Staff, Perm: auth.PermOrdersRead,
		Summary: "After-sales requests, newest first", Query: statusParam, Response: httpx.Page[Request]{}, Handler: h.list})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/aftersales/{id}", Tag: admin, Access: httpx.Staff, Perm: auth.PermOrdersRead,
		Summary: "An after-sales request with its log", Response: Request{}, Handler: h.get})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/aftersales/{id}/approve", Errors: map[int][]string{404: {"aftersale_not_found"}, 409: {"aftersale_not_open", "order_not_refundable", "wechatpay_not_configured"}}, Tag: admin, Access: httpx.Staff, Perm: auth.PermOrdersManage,
		Summary: "Approve: the refund goes out", Response: Request{}, Handler: h.approve})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/aftersales/{id}/reject", Errors: map[int][]string{400: {"reason_required"}}, Tag: admin, Access: httpx.Staff, Perm: auth.PermOrdersManage,
		Summary: "Reject with a reason the buyer sees", Request: rejectRequest{}, Response: Request{}, Handler: h.reject})
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

func (h *Handlers) cancel(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	m, _ := auth.MemberFrom(r.Context())
	if err := h.Svc.Cancel(r.Context(), m.ShopID, m.ID, id); err != nil {
		return err
	}
	v, err := h.Svc.Get(r.Context(), m.ShopID, id, m.ID)
	return httpx.Respond(w, http.StatusOK, v.Buyer(), err)
}

func (h *Handlers) list(w http.ResponseWriter, r *http.Request) error {
	status := r.URL.Query().Get("status")
	switch status {
	case "", Requested, Approved, Rejected, Cancelled:
	default:
		return errs.Field("status", "invalid_query", "unknown status")
	}
	return h.page(w, r, auth.StaffShop(r.Context()), 0, status)
}

// page answers one page of requests (?cursor=, ?limit=) to staff.
func (h *Handlers) page(w http.ResponseWriter, r *http.Request, shopID, memberID int64, status string) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	rows, err := h.Svc.List(r.Context(), shopID, memberID, status, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(rows, limit, func(x Request) int64 { return x.ID }), err)
}

func (h *Handlers) get(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	v, err := h.Svc.Get(r.Context(), auth.StaffShop(r.Context()), id, 0)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) approve(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	req, err := h.Svc.Get(r.Context(), st.ShopID, id, 0)
	if err != nil {
		return err
	}
	if err := payment.CheckRefundLimit(r.Context(), h.Svc.db, st, req.OrderID, req.Amount); err != nil {
		return err
	}
	if err := h.Svc.Approve(r.Context(), st.ShopID, id, order.StaffActor(st.AccountID)); err != nil {
		return err
	}
	v, err := h.Svc.Get(r.Context(), st.ShopID, id, 0)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) reject(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in rejectRequest
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	if err := h.Svc.Reject(r.Context(), st.ShopID, id, order.StaffActor(st.AccountID), in.Reason); err != nil {
		return err
	}
	v, err := h.Svc.Get(r.Context(), st.ShopID, id, 0)
	return httpx.Respond(w, http.StatusOK, v, err)
}
