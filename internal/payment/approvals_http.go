package payment

import (
	"context"
	"net/http"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

func (h *Handlers) approvalRoutes(api *httpx.API) {
	const tag = "admin: orders"
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/refund-policy", Tag: tag, Access: httpx.Staff, Perm: auth.PermOrdersRead,
		Summary: "How much customer service may refund without approval", Response: RefundPolicy{}, Handler: h.policy})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/refund-policy", Tag: tag, Access: httpx.Staff, Perm: auth.PermRefundsApprove,
		Summary: "Set how much customer service may refund without approval", Request: RefundPolicy{}, Response: RefundPolicy{}, Handler: h.setPolicy})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/refund-requests", Tag: tag, Access: httpx.Staff, Perm: auth.PermOrdersManage,
		Summary: "Ask a second person to approve a refund (above the customer-service limit)", Request: NewRefundRequest{},
		Response: RefundRequest{}, Status: http.StatusCreated, Handler: h.askRefund})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/refund-requests", Tag: tag, Access: httpx.Staff, Perm: auth.PermOrdersRead,
		Summary: "Refund requests, newest first", Response: httpx.Page[RefundRequest]{},
		Query: httpx.PageParams(httpx.Param{Name: "status", Type: "string", Description: "pending, approved or rejected"}), Handler: h.refundRequests})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/refund-requests/{id}/approve", Tag: tag, Access: httpx.Staff,
		Perm: auth.PermRefundsApprove, StepUp: true, Summary: "Approve a refund request (not one's own): the refund is made (above the requester's limit, so it asks for a step-up)", Request: Decision{},
		Response: RefundRequest{}, Handler: h.approveRefund})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/refund-requests/{id}/reject", Tag: tag, Access: httpx.Staff,
		Perm: auth.PermRefundsApprove, Summary: "Reject a refund request (not one's own)", Request: Decision{},
		Response: RefundRequest{}, Handler: h.rejectRefund})
}

func (h *Handlers) policy(w http.ResponseWriter, r *http.Request) error {
	p, err := h.Svc.Policy(r.Context(), auth.StaffShop(r.Context()))
	return httpx.Respond(w, http.StatusOK, p, err)
}

func (h *Handlers) setPolicy(w http.ResponseWriter, r *http.Request) error {
	var in RefundPolicy
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	p, err := h.Svc.SetPolicy(r.Context(), st.ShopID, st.AccountID, in)
	return httpx.Respond(w, http.StatusOK, p, err)
}

func (h *Handlers) askRefund(w http.ResponseWriter, r *http.Request) error {
	var in NewRefundRequest
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	v, err := h.Svc.AskRefund(r.Context(), st, in)
	return httpx.Respond(w, http.StatusCreated, v, err)
}

func (h *Handlers) refundRequests(w http.ResponseWriter, r *http.Request) error {
	status := r.URL.Query().Get("status")
	switch status {
	case "", "pending", "approved", "rejected":
	default:
		return errs.Field("status", "invalid_query", "unknown status")
	}
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	v, err := h.Svc.RefundRequests(r.Context(), auth.StaffShop(r.Context()), status, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(v, limit, func(x RefundRequest) int64 { return x.ID }), err)
}

func (h *Handlers) approveRefund(w http.ResponseWriter, r *http.Request) error {
	return h.decideRefund(w, r, h.Svc.ApproveRefund)
}

func (h *Handlers) rejectRefund(w http.ResponseWriter, r *http.Request) error {
	return h.decideRefund(w, r, h.Svc.RejectRefund)
}

func (h *Handlers) decideRefund(w http.ResponseWriter, r *http.Request, decide func(ctx context.Context, st auth.Staff, id int64, d Decision) (RefundRequest, error)) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var d Decision
	if r.ContentLength != 0 { // the note is optional, and so is the body
		if err := httpx.Decode(w, r, &d, 0); err != nil {
			return err
		}
	}
	st, _ := auth.StaffFrom(r.Context())
	v, err := decide(r.Context(), st, id, d)
	return httpx.Respond(w, http.StatusOK, v, err)
}
