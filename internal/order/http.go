package order

import (
	"net/http"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
	"github.com/kaidian/kaidian/internal/platform/mask"
)

// Handlers serves carts and orders.
type Handlers struct{ Svc *Service }

type noteRequest struct {
	Note string `json:"note"`
}

type cancelRequest struct {
	Reason string `json:"reason"`
}

// checkoutErrors are the codes preview and order creation answer besides
// bad input (the two price the same way).
var checkoutErrors = map[int][]string{
	400: {"cart_empty", "invalid_fields", "quantity_too_large", "sku_unavailable", "promotions_unavailable", "invalid_region"},
	404: {"sku_not_found", "coupon_not_found", "flash_claim_not_found", "group_deal_not_found", "group_not_found", "address_not_found"},
	409: {"amount_mismatch", "out_of_stock", "coupon_used", "group_full", "group_closed", "group_deal_not_open", "already_in_group"},
	410: {"coupon_expired", "coupon_unavailable", "flash_claim_expired"},
	422: {"region_not_delivered"},
}

var pageParams = httpx.PageParams(
	httpx.Param{Name: "status", Type: "string", Enum: Status("").EnumValues()})

// Routes registers the cart and order routes.
func (h *Handlers) Routes(api *httpx.API) {
	const mini = "mini: orders"
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/cart", Tag: mini, Access: httpx.Member, Summary: "My cart", Response: Cart{}, Handler: h.cart})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/cart/items", Errors: map[int][]string{400: {"sku_unavailable"}, 404: {"sku_not_found"}, 409: {"cart_full"}}, Tag: mini, Access: httpx.Member,
		Summary: "Add a SKU to my cart", Request: Item{}, Response: Cart{}, Handler: h.addToCart})
	api.Add(httpx.Route{Method: "PATCH", Path: "/api/v1/cart/items/{id}", Errors: map[int][]string{404: {"cart_line_not_found"}}, Tag: mini, Access: httpx.Member,
		Summary: "Change a cart line's quantity or selection", Request: CartUpdate{}, Response: Cart{}, Handler: h.updateCart})
	api.Add(httpx.Route{Method: "PUT", Path: "/api/v1/cart/items/{id}", Errors: map[int][]string{404: {"cart_line_not_found"}}, Tag: mini, Access: httpx.Member,
		Summary: "Change a cart line's quantity or selection: the same as PATCH, for wx.request, which cannot send PATCH", Request: CartUpdate{}, Response: Cart{}, Handler: h.updateCart})
	api.Add(httpx.Route{Method: "DELETE", Path: "/api/v1/cart/items/{id}", Errors: map[int][]string{404: {"cart_line_not_found"}}, Tag: mini, Access: httpx.Member,
		Summary: "Remove a cart line", Response: Cart{}, Handler: h.removeFromCart})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/orders", Errors: checkoutErrors, Tag: mini, Access: httpx.Member, Status: http.StatusCreated,
		Summary: "Place an order from the cart's selected lines or as buy-now; needs an Idempotency-Key header",
		Request: CreateInput{}, Response: BuyerOrder{}, Idempotent: true, Handler: h.create})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/orders/preview", Errors: checkoutErrors, Tag: mini, Access: httpx.Member,
		Summary: "Price a checkout (itemised: promotion prices, coupon, shipping) and suggest the best coupon, without placing it",
		Request: PreviewInput{}, Response: Preview{}, Handler: h.preview})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/orders", Tag: mini, Access: httpx.Member,
		Summary: "My orders, newest first", Query: pageParams, Response: httpx.Page[BuyerOrder]{}, Handler: h.listMine})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/orders/{id}", Errors: map[int][]string{404: {"order_not_found"}}, Tag: mini, Access: httpx.Member,
		Summary: "One of my orders", Response: BuyerOrder{}, Handler: h.getMine})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/orders/{id}/cancel", Tag: mini, Access: httpx.Member,
		Summary: "Cancel my unpaid order", Request: cancelRequest{}, Response: BuyerOrder{}, Handler: h.cancelMine})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/orders/{id}/confirm-receipt", Tag: mini, Access: httpx.Member,
		Summary: "Confirm I received my order", Response: BuyerOrder{}, Handler: h.confirm})

	api.Add(httpx.Route{Method: "PUT", Path: "/api/v1/orders/{id}/invoice", Tag: mini, Access: httpx.Member,
		Summary: "Ask for a VAT invoice (personal or company title) on my order", Request: InvoiceRequest{}, Response: BuyerOrder{}, Handler: h.requestInvoice})

	const admin = "admin: orders"
	read, manage := auth.PermOrdersRead, auth.PermOrdersManage
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/orders", Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "Search orders by number, phone, status and date", Response: httpx.Page[Order]{}, Handler: h.search,
		Query: append([]httpx.Param{{Name: "order_no", Type: "string"}, {Name: "phone", Type: "string"},
			{Name: "from", Type: "string", Description: "date YYYY-MM-DD (China time), inclusive"},
			{Name: "to", Type: "string", Description: "date YYYY-MM-DD (China time), inclusive"}}, pageParams...)})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/orders/{id}", Errors: map[int][]string{404: {"order_not_found"}}, Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "An order with its lines and event log", Response: Order{}, Handler: h.getAny})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/orders/{id}/reveal", Tag: admin, Access: httpx.Staff, Perm: auth.PermReveal, Reveals: true,
		Summary: "Show the order's receiver (name and phone) in full, giving the reason (recorded in the audit log); staff otherwise see them masked",
		Errors:  map[int][]string{400: {"reason_required"}, 404: {"order_not_found"}}, Request: mask.RevealRequest{}, Response: Address{}, Handler: h.reveal})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/orders/{id}/ship", Tag: admin, Access: httpx.Staff, Perm: manage,
		Summary: "Ship a paid order", Request: ShipInput{}, Response: Order{}, Handler: h.ship})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/orders/{id}/cancel", Tag: admin, Access: httpx.Staff, Perm: manage,
		Summary: "Cancel an unpaid order", Request: cancelRequest{}, Response: Order{}, Handler: h.cancelAny})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/orders/{id}/invoice/issue", Errors: map[int][]string{400: {"invalid_invoice_no"}}, Tag: admin, Access: httpx.Staff, Perm: manage,
		Summary: "Record that the requested invoice was issued, with its number", Request: IssueInput{}, Response: Order{}, Handler: h.issueInvoice})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/orders/{id}/note", Tag: admin, Access: httpx.Staff, Perm: manage,
		Summary: "Set the staff note", Request: noteRequest{}, Response: Order{}, Handler: h.note})
}

func member(r *http.Request) auth.Member {
	m, _ := auth.MemberFrom(r.Context())
	return m
}

func staff(r *http.Request) auth.Staff {
	st, _ := auth.StaffFrom(r.Context())
	return st
}

func (h *Handlers) cart(w http.ResponseWriter, r *http.Request) error {
	m := member(r)
	v, err := h.Svc.Cart(r.Context(), m.ShopID, m.ID)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) addToCart(w http.ResponseWriter, r *http.Request) error {
	var in Item
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	m := member(r)
	v, err := h.Svc.AddToCart(r.Context(), m.ShopID, m.ID, in)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) updateCart(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in CartUpdate
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	m := member(r)
	v, err := h.Svc.UpdateCartLine(r.Context(), m.ShopID, m.ID, id, in)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) removeFromCart(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	m := member(r)
	v, err := h.Svc.RemoveCartLine(r.Context(), m.ShopID, m.ID, id)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) create(w http.ResponseWriter, r *http.Request) error {
	var in CreateInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	m := member(r)
	o, err := h.Svc.Create(r.Context(), m.ShopID, m.ID, r.Header.Get("Idempotency-Key"), in)
	return httpx.Respond(w, http.StatusCreated, o.ForBuyer(), err)
}

func (h *Handlers) preview(w http.ResponseWriter, r *http.Request) error {
	var in PreviewInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	m := member(r)
	v, err := h.Svc.Preview(r.Context(), m.ShopID, m.ID, in)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func pageFilter(r *http.Request) (Filter, error) {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return Filter{}, err
	}
	st := Status(r.URL.Query().Get("status"))
	if st != "" && !ValidStatus(st) {
		return Filter{}, errs.Field("status", "invalid_query", "unknown status")
	}
	return Filter{Status: st, After: after, Limit: limit}, nil
}

func (h *Handlers) listMine(w http.ResponseWriter, r *http.Request) error {
	f, err := pageFilter(r)
	if err != nil {
		return err
	}
	m := member(r)
	v, err := h.Svc.BuyerOrders(r.Context(), m.ShopID, m.ID, f)
	return httpx.Respond(w, http.StatusOK, httpx.NewPage(v.Items, v.Next), err)
}

func (h *Handlers) getMine(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	m := member(r)
	v, err := h.Svc.BuyerOrder(r.Context(), m.ShopID, id, m.ID)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) cancelMine(w http.ResponseWriter, r *http.Request) error {
	var in cancelRequest
	return h.memberAction(w, r, &in, func(m auth.Member, id int64) error {
		return h.Svc.Cancel(r.Context(), m.ShopID, id, m.ID, MemberActor(m.ID), reason(in.Reason, "cancelled by the buyer"))
	})
}

func (h *Handlers) confirm(w http.ResponseWriter, r *http.Request) error {
	return h.memberAction(w, r, nil, func(m auth.Member, id int64) error {
		return h.Svc.Complete(r.Context(), m.ShopID, id, m.ID, MemberActor(m.ID))
	})
}

func (h *Handlers) search(w http.ResponseWriter, r *http.Request) error {
	f, err := pageFilter(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f.OrderNo, f.Phone = strings.TrimSpace(q.Get("order_no")), strings.TrimSpace(q.Get("phone"))
	if f.From, err = chinaDate(q.Get("from"), "from", 0); err != nil {
		return err
	}
	if f.To, err = chinaDate(q.Get("to"), "to", 1); err != nil {
		return err
	}
	v, err := h.Svc.List(r.Context(), staff(r).ShopID, f)
	for i := range v.Items {
		v.Items[i].Address = v.Items[i].Address.Masked()
	}
	return httpx.Respond(w, http.StatusOK, httpx.NewPage(v.Items, v.Next), err)
}

// chinaDate parses YYYY-MM-DD as midnight in China time, plus days.
func chinaDate(s, field string, days int) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", s, china)
	if err != nil {
		return time.Time{}, errs.Field(field, "invalid_query", field+" must be a date like 2026-11-22")
	}
	return t.AddDate(0, 0, days), nil
}

func (h *Handlers) getAny(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	v, err := h.Svc.Get(r.Context(), staff(r).ShopID, id, 0)
	v.Address = v.Address.Masked()
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) reveal(w http.ResponseWriter, r *http.Request) error {
	id, err := mask.ReadReveal(w, r)
	if err != nil {
		return err
	}
	v, err := h.Svc.Get(r.Context(), staff(r).ShopID, id, 0)
	return httpx.Respond(w, http.StatusOK, v.Address, err)
}

func (h *Handlers) ship(w http.ResponseWriter, r *http.Request) error {
	var in ShipInput
	return h.staffAction(w, r, &in, func(st auth.Staff, id int64) error {
		return h.Svc.Ship(r.Context(), st.ShopID, id, StaffActor(st.AccountID), in)
	})
}

func (h *Handlers) cancelAny(w http.ResponseWriter, r *http.Request) error {
	var in cancelRequest
	return h.staffAction(w, r, &in, func(st auth.Staff, id int64) error {
		return h.Svc.Cancel(r.Context(), st.ShopID, id, 0, StaffActor(st.AccountID), reason(in.Reason, "cancelled by staff"))
	})
}

func (h *Handlers) note(w http.ResponseWriter, r *http.Request) error {
	var in noteRequest
	return h.staffAction(w, r, &in, func(st auth.Staff, id int64) error {
		return h.Svc.SetStaffNote(r.Context(), st.ShopID, id, in.Note)
	})
}

func (h *Handlers) requestInvoice(w http.ResponseWriter, r *http.Request) error {
	var in InvoiceRequest
	return h.memberAction(w, r, &in, func(m auth.Member, id int64) error {
		return h.Svc.RequestInvoice(r.Context(), m.ShopID, id, m.ID, in)
	})
}

func (h *Handlers) issueInvoice(w http.ResponseWriter, r *http.Request) error {
	var in IssueInput
	return h.staffAction(w, r, &in, func(st auth.Staff, id int64) error {
		return h.Svc.IssueInvoice(r.Context(), st.ShopID, id, StaffActor(st.AccountID), st.AccountID, in)
	})
}

// memberAction runs act on the buyer's order named in the path, after
// decoding the optional JSON body into in (nil for none), and answers with
// the order as the buyer sees it.
func (h *Handlers) memberAction(w http.ResponseWriter, r *http.Request, in any, act func(auth.Member, int64) error) error {
	id, err := pathAndBody(w, r, in)
	if err != nil {
		return err
	}
	m := member(r)
	if err := act(m, id); err != nil {
		return err
	}
	v, err := h.Svc.BuyerOrder(r.Context(), m.ShopID, id, m.ID)
	return httpx.Respond(w, http.StatusOK, v, err)
}

// staffAction is memberAction for staff: the answer is the staff view.
func (h *Handlers) staffAction(w http.ResponseWriter, r *http.Request, in any, act func(auth.Staff, int64) error) error {
	id, err := pathAndBody(w, r, in)
	if err != nil {
		return err
	}
	st := staff(r)
	if err := act(st, id); err != nil {
		return err
	}
	v, err := h.Svc.Get(r.Context(), st.ShopID, id, 0)
	v.Address = v.Address.Masked()
	return httpx.Respond(w, http.StatusOK, v, err)
}

func pathAndBody(w http.ResponseWriter, r *http.Request, in any) (int64, error) {
	id, err := httpx.PathID(r, "id")
	if err != nil || in == nil {
		return id, err
	}
	return id, decodeOptional(w, r, in)
}

// decodeOptional decodes a body when there is one.
func decodeOptional(w http.ResponseWriter, r *http.Request, dst any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return httpx.Decode(w, r, dst, 0)
}

func reason(given, fallback string) string {
	given = strings.TrimSpace(given)
	if given == "" || runes(given) > 200 {
		return fallback
	}
	return given
}
