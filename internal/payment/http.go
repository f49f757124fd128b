package payment

import (
	"errors"
	"net/http"
	"time"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
	"github.com/kaidian/kaidian/internal/platform/wechatpay"
)

// Handlers serves payment routes and WeChat Pay's notifications.
type Handlers struct{ Svc *Service }

// Routes registers the payment routes.
func (h *Handlers) Routes(api *httpx.API) {
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/orders/{id}/pay", Errors: map[int][]string{404: {"order_not_found"}, 409: {"order_expired", "order_not_payable", "order_paid", "wechatpay_not_configured"}, 503: {"wechatpay_unavailable"}}, Tag: "mini: orders", Access: httpx.Member,
		Summary: "Get the wx.requestPayment parameters for my unpaid order", Response: wechatpay.PaymentParams{}, Handler: h.pay})
	api.Add(httpx.Route{Method: "POST", Path: "/webhooks/wechatpay/{id}/transaction", Errors: wechatReplies, Tag: "webhooks", Access: httpx.Public,
		Summary: "WeChat Pay payment notifications for shop {id} (signed and encrypted by WeChat)", Status: http.StatusNoContent,
		BodyLimit: 1 << 20, Handler: h.notify})
	api.Add(httpx.Route{Method: "POST", Path: "/webhooks/wechatpay/{id}/refund", Errors: wechatReplies, Tag: "webhooks", Access: httpx.Public,
		Summary: "WeChat Pay refund notifications for shop {id}", Status: http.StatusNoContent, BodyLimit: 1 << 20, Handler: h.refundNotify})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/orders/{id}/refunds", Errors: map[int][]string{400: {"invalid_amount", "refund_exceeds_paid"}, 404: {"order_not_found"}, 409: {"order_not_refundable", "wechatpay_not_configured"}}, Tag: "admin: orders", Access: httpx.Staff,
		Perm: auth.PermOrdersManage, Idempotent: true, MayStepUp: true, Summary: "Refund part or all of a paid order (several partial refunds up to what was paid); the Idempotency-Key header (8 to 64 characters, required: one per refund the staff member means) makes a repeat return the same refund; a refund that takes the staff member's refunds of the order above the shop's refund limit asks for a step-up",
		Request: RefundInput{}, Response: Refund{}, Status: http.StatusCreated, Handler: h.requestRefund})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/orders/{id}/refunds", Errors: map[int][]string{404: {"order_not_found"}}, Tag: "admin: orders", Access: httpx.Staff,
		Perm: auth.PermOrdersRead, Summary: "An order's refunds, newest first", Query: httpx.PageParams(), Response: httpx.Page[Refund]{}, Handler: h.orderRefunds})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/refunds", Tag: "admin: orders", Access: httpx.Staff,
		Perm: auth.PermOrdersRead, Summary: "Refunds by status (failed and abnormal ones need staff), newest first", Response: httpx.Page[Refund]{},
		Query: httpx.PageParams(httpx.Param{Name: "status", Type: "string", Description: "pending, processing, succeeded, failed or abnormal"}), Handler: h.refunds})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/refunds/attention", Tag: "admin: orders", Access: httpx.Staff,
		Perm: auth.PermOrdersRead, Summary: "Refunds that need attention: WeChat's answer unknown, not finished after 30 minutes, or abnormal; with how long and why",
		Query: httpx.PageParams(), Response: httpx.Page[AttentionRefund]{}, Handler: h.attention})
	h.approvalRoutes(api)
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/reconciliations", Tag: "admin: finance", Access: httpx.Staff,
		Perm: auth.PermOrdersRead, Summary: "Daily reconciliations against WeChat Pay's trade bill, newest day first (without their differences: read one for those)", Query: httpx.PageParams(), Response: httpx.Page[Report]{}, Handler: h.reports})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/reconciliations/{id}", Tag: "admin: finance", Access: httpx.Staff,
		Perm: auth.PermOrdersRead, Summary: "A reconciliation with every difference", Response: Report{}, Handler: h.report})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/reconciliations", Errors: map[int][]string{400: {"invalid_date"}}, Tag: "admin: finance", Access: httpx.Staff,
		Perm: auth.PermOrdersManage, Summary: "Reconcile a day now (replaces that day's report)", Request: reconcileRequest{},
		Response: Report{}, Status: http.StatusCreated, Handler: h.reconcile})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/payments/stats", Tag: "admin: orders", Access: httpx.Staff,
		Perm: auth.PermOrdersRead, Summary: "Payment success rate (paid / payment attempts) per day, China time: a series of exactly `days` days ending today, oldest first (the whole series, not a page; more than 90 days is refused with 400 invalid_query)", Response: []DayStats{},
		Query: []httpx.Param{{Name: "days", Type: "integer", Description: "1 to 90, default 30"}}, Handler: h.stats})
}

func (h *Handlers) pay(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	m, _ := auth.MemberFrom(r.Context())
	params, err := h.Svc.Pay(r.Context(), m.ShopID, m.ID, id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, params)
	return nil
}

func (h *Handlers) requestRefund(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in RefundInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	if err := CheckRefundLimit(r.Context(), h.Svc.db, st, id, in.Amount); err != nil {
		return err
	}
	if err := checkRefundStepUp(r.Context(), h.Svc.db, st, id, in.Amount); err != nil {
		return err
	}
	ref, err := h.Svc.RequestRefund(r.Context(), st.ShopID, id, r.Header.Get("Idempotency-Key"), in, order.StaffActor(st.AccountID))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, ref)
	return nil
}

func (h *Handlers) orderRefunds(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	if _, err := h.Svc.orders.Get(r.Context(), st.ShopID, id, 0); err != nil {
		return err
	}
	return h.refundPage(w, r, st.ShopID, id, "")
}

func (h *Handlers) refunds(w http.ResponseWriter, r *http.Request) error {
	status := r.URL.Query().Get("status")
	switch status {
	case "", "pending", "processing", "succeeded", "failed", "abnormal":
	default:
		return errs.Field("status", "invalid_query", "unknown refund status")
	}
	st, _ := auth.StaffFrom(r.Context())
	return h.refundPage(w, r, st.ShopID, 0, status)
}

// refundPage answers one page of refunds (?cursor=, ?limit=).
func (h *Handlers) refundPage(w http.ResponseWriter, r *http.Request, shopID, orderID int64, status string) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	list, err := h.Svc.Refunds(r.Context(), shopID, orderID, status, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, func(x Refund) int64 { return x.ID }), err)
}

func (h *Handlers) attention(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQueryKeys(r, 2)
	if err != nil {
		return err
	}
	list, err := h.Svc.Attention(r.Context(), auth.StaffShop(r.Context()), after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOfKeys(list, limit, AttentionRefund.AttentionKeys), err)
}

func (h *Handlers) refundNotify(w http.ResponseWriter, r *http.Request) error {
	shopID, err := httpx.PathID(r, "id")
	if err == nil {
		err = h.Svc.RefundNotify(r.Context(), shopID, r)
	}
	return replyToWeChat(w, r, err)
}

// notify answers WeChat: 204 when applied (or already applied), 4xx for a
// notification we refuse (WeChat gives up on it after its retries), 5xx when
// we could not decide now (WeChat retries).
func (h *Handlers) notify(w http.ResponseWriter, r *http.Request) error {
	shopID, err := httpx.PathID(r, "id")
	if err == nil {
		err = h.Svc.Notify(r.Context(), shopID, r)
	}
	return replyToWeChat(w, r, err)
}

// wechatReplies are the webhooks' refusals, in WeChat Pay's protocol
// ({"code":"FAIL"}): 400 for a notification that will never be accepted, 500
// for one WeChat should send again.
var wechatReplies = map[int][]string{http.StatusBadRequest: {"FAIL"}, http.StatusInternalServerError: {"FAIL"}}

func replyToWeChat(w http.ResponseWriter, r *http.Request, err error) error {
	status := http.StatusNoContent
	switch {
	case err == nil:
		w.WriteHeader(status)
		return nil
	case wechatpay.IsRejected(err) || errors.Is(err, errMismatch),
		errs.As(err).Kind != errs.Internal && errs.As(err).Kind != errs.Unavailable: // includes an unconfigured shop
		status = http.StatusBadRequest
	default:
		status = http.StatusInternalServerError
		httpx.Logger(r.Context()).Error("payment notification failed", "err", err.Error())
	}
	httpx.WriteJSON(w, status, map[string]string{"code": "FAIL", "message": "notification not accepted"})
	return nil
}

func (h *Handlers) stats(w http.ResponseWriter, r *http.Request) error {
	days, err := httpx.QueryInt(r, "days", 30, 1, 90)
	if err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	out, err := h.Svc.Stats(r.Context(), st.ShopID, time.Now(), int(days))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

type reconcileRequest struct {
	Date string `json:"date" doc:"YYYY-MM-DD, China time; not in the future"`
}

func (h *Handlers) reports(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	rows, err := h.Svc.Reports(r.Context(), auth.StaffShop(r.Context()), after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(rows, limit, Report.ReportKey), err)
}

func (h *Handlers) report(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	rep, err := h.Svc.Report(r.Context(), auth.StaffShop(r.Context()), id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, rep)
	return nil
}

func (h *Handlers) reconcile(w http.ResponseWriter, r *http.Request) error {
	var in reconcileRequest
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	day, err := time.ParseInLocation(time.DateOnly, in.Date, china)
	if err != nil || day.After(time.Now()) {
		return errs.Field("date", "invalid_date", "must be a past or current date like 2026-11-21")
	}
	rep, err := h.Svc.Reconcile(r.Context(), auth.StaffShop(r.Context()), day)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, rep)
	return nil
}
