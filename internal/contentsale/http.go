package contentsale

import (
	"net/http"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves content sales to buyers and staff.
type Handlers struct{ Svc *Service }

var china = time.FixedZone("CST", 8*3600)

// ItemList is the shop's xpay items (a whole read: one per price tier).
type ItemList struct {
	Items []Item `json:"items"`
}

// TrialList is the plans offering a free trial.
type TrialList struct {
	Trials []Trial `json:"trials"`
}

// RevenueReport is sales per piece of content in a range of China days.
type RevenueReport struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	Rows []Revenue `json:"rows"`
}

// Routes registers the routes.
func (h *Handlers) Routes(api *httpx.API) {
	h.buyerRoutes(api)
	h.staffRoutes(api)
}

func (h *Handlers) buyerRoutes(api *httpx.API) {
	const tag = "mini: content sales"
	orderErrs := map[int][]string{404: {"content_order_not_found"}}
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/content/offer", Tag: tag, Access: httpx.Member,
		Query:   []httpx.Param{{Name: "kind", Type: "string", Enum: []string{KindCourse, KindPackage, KindPlan, KindCamp}}, {Name: "id", Type: "integer"}},
		Errors:  map[int][]string{404: {"target_not_found"}},
		Summary: "What a piece of content costs me now (the member price applied): the order charges exactly this", Response: BuyerOffer{}, Handler: h.offer})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/content/orders", Tag: tag, Access: httpx.Member, Status: http.StatusCreated,
		Errors: map[int][]string{404: {"target_not_found"}, 409: {"xpay_not_configured", "xpay_item_missing", "session_key_missing", "content_is_free"},
			422: {"mixed_cart", "goods_not_content", "ios_minimum_price"}},
		Summary: "Buy one piece of content (or a gift of it) with WeChat virtual payment: answers the order and the signed arguments of wx.requestVirtualPayment; access is granted when WeChat's delivery push is verified",
		Request: CreateInput{}, Response: Checkout{}, Handler: h.create})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/content/orders", Tag: tag, Access: httpx.Member, Query: httpx.PageParams(),
		Summary: "My content orders, newest first", Response: httpx.Page[BuyerOrder]{}, Handler: h.myOrders})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/content/orders/{id}", Tag: tag, Access: httpx.Member, Errors: orderErrs,
		Summary: "One of my content orders (poll it after paying: paid once WeChat confirms)", Response: BuyerOrder{}, Handler: h.myOrder})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/content/orders/{id}/refund", Tag: tag, Access: httpx.Member,
		Errors: map[int][]string{404: {"content_order_not_found"}, 409: {"refund_window_closed", "refund_too_much_used", "ios_refund_by_apple",
			"content_order_not_refundable", "content_order_changed", "gift_claimed"}},
		Summary: "Ask for my money back within the shop's window: access ends when WeChat accepts the refund (iOS purchases are refunded only by Apple)",
		Request: RefundInput{}, Response: BuyerOrder{}, Handler: h.myRefund})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/content/gifts", Tag: tag, Access: httpx.Member, Query: httpx.PageParams(),
		Summary: "Gifts I bought, with their claim codes", Response: httpx.Page[Gift]{}, Handler: h.myGifts})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/content/gifts/{code}", Tag: tag, Access: httpx.Member, Errors: map[int][]string{404: {"gift_not_found"}},
		Summary: "What a gift's claim code gives", Response: Gift{}, Handler: h.gift})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/content/gifts/{code}/claim", Tag: tag, Access: httpx.Member,
		Errors:  map[int][]string{404: {"gift_not_found"}, 409: {"gift_claimed", "gift_refunded", "own_gift"}},
		Summary: "Claim a gift: its access becomes mine (once; the giver cannot claim their own)", Response: Gift{}, Handler: h.claim})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/content/plans/{id}/trial", Tag: tag, Access: httpx.Member, Status: http.StatusCreated,
		Errors:  map[int][]string{404: {"trial_not_offered", "target_not_found"}, 409: {"trial_used"}},
		Summary: "Start a membership plan's free trial (once per member)", Response: Trial{}, Handler: h.trial})
}

func (h *Handlers) staffRoutes(api *httpx.API) {
	const tag = "admin: content sales"
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/content-sale/settings", Tag: tag, Access: httpx.Staff, Perm: auth.PermShopRead,
		Summary: "The shop's virtual-payment settings (keys masked) and refund rules", Response: Settings{}, Handler: h.settings})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/content-sale/settings", Tag: tag, Access: httpx.Staff, Perm: auth.PermShopSettings,
		Summary: "Replace the virtual-payment settings (an empty or masked key keeps the stored one)", Request: Settings{}, Response: Settings{}, Handler: h.saveSettings})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/content-sale/items", Tag: tag, Access: httpx.Staff, Perm: auth.PermShopRead,
		Summary: "The xpay items (道具) registered per price: every price content sells at needs one (whole list: one per price tier)", Response: ItemList{}, Handler: h.items})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/content-sale/items", Tag: tag, Access: httpx.Staff, Perm: auth.PermShopSettings, Status: http.StatusCreated,
		Errors:  map[int][]string{409: {"xpay_item_exists"}},
		Summary: "Record an item registered in WeChat at a price", Request: Item{}, Response: Item{}, Handler: h.addItem})
	api.Add(httpx.Route{Method: "DELETE", Path: "/admin/api/v1/content-sale/items/{item}", Tag: tag, Access: httpx.Staff, Perm: auth.PermShopSettings,
		Errors:  map[int][]string{404: {"xpay_item_not_found"}, 409: {"xpay_item_used"}},
		Summary: "Forget an item no order used", Handler: h.deleteItem})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/content-sale/trials", Tag: tag, Access: httpx.Staff, Perm: auth.PermShopRead,
		Summary: "Plans offering a free trial (whole list: one per plan)", Response: TrialList{}, Handler: h.trials})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/content-sale/trials", Tag: tag, Access: httpx.Staff, Perm: auth.PermCatalogWrite,
		Errors:  map[int][]string{404: {"target_not_found"}},
		Summary: "Offer a plan's free trial of N days (0 stops it)", Request: Trial{}, Response: Trial{}, Handler: h.setTrial})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/content-sale/orders", Tag: tag, Access: httpx.Staff, Perm: auth.PermOrdersRead,
		Query: httpx.PageParams(httpx.Param{Name: "state", Type: "string", Enum: []string{StateCreated, StatePaid, StateRefunding, StateRefunded, StateRefundFailed, StateClosed}},
			httpx.Param{Name: "member_id", Type: "integer"}),
		Summary: "Content orders, newest first", Response: httpx.Page[Order]{}, Handler: h.orders})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/content-sale/orders/{id}", Tag: tag, Access: httpx.Staff, Perm: auth.PermOrdersRead,
		Errors: map[int][]string{404: {"content_order_not_found"}}, Summary: "A content order with its log", Response: OrderDetail{}, Handler: h.order})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/content-sale/orders/{id}/refund", Tag: tag, Access: httpx.Staff, Perm: auth.PermOrdersManage,
		Errors:  map[int][]string{404: {"content_order_not_found"}, 409: {"ios_refund_by_apple", "content_order_not_refundable", "content_order_changed", "gift_claimed"}},
		Summary: "Refund a content order in full outside the buyer's window (or again after WeChat refused): access ends when WeChat accepts it",
		Request: RefundInput{}, Response: Order{}, Handler: h.staffRefund})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/content-sale/revenue", Tag: tag, Access: httpx.Staff, Perm: auth.PermOrdersRead,
		Query:   []httpx.Param{{Name: "from", Type: "string", Description: "date YYYY-MM-DD (China time), inclusive; default 30 days ago"}, {Name: "to", Type: "string", Description: "date YYYY-MM-DD, inclusive; default today"}},
		Summary: "Sales and refunds per piece of content (course, package, plan, camp) paid in the range", Response: RevenueReport{}, Handler: h.revenue})
}

func (h *Handlers) offer(w http.ResponseWriter, r *http.Request) error {
	m, _ := auth.MemberFrom(r.Context())
	id, err := strconv.ParseInt(r.URL.Query().Get("id"), 10, 64)
	if err != nil || id <= 0 {
		return errs.Field("id", "invalid_query", "id must be a positive integer")
	}
	out, err := h.Svc.Preview(r.Context(), m.ShopID, m.ID, r.URL.Query().Get("kind"), id)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) create(w http.ResponseWriter, r *http.Request) error {
	var in CreateInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	m, _ := auth.MemberFrom(r.Context())
	out, err := h.Svc.Create(r.Context(), m.ShopID, m.ID, in)
	return httpx.Respond(w, http.StatusCreated, out, err)
}

func (h *Handlers) myOrders(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	m, _ := auth.MemberFrom(r.Context())
	list, err := h.Svc.MyOrders(r.Context(), m.ShopID, m.ID, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, func(o BuyerOrder) int64 { return o.ID }), err)
}

func (h *Handlers) myOrder(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	m, _ := auth.MemberFrom(r.Context())
	out, err := h.Svc.MyOrder(r.Context(), m.ShopID, m.ID, id)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) myRefund(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in RefundInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	m, _ := auth.MemberFrom(r.Context())
	o, err := h.Svc.BuyerRefund(r.Context(), m.ShopID, m.ID, id, in)
	return httpx.Respond(w, http.StatusOK, orderRow{Order: o}.forBuyer(), err)
}

func (h *Handlers) myGifts(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	m, _ := auth.MemberFrom(r.Context())
	list, err := h.Svc.MyGifts(r.Context(), m.ShopID, m.ID, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, func(g Gift) int64 { return g.ID }), err)
}

func (h *Handlers) gift(w http.ResponseWriter, r *http.Request) error {
	m, _ := auth.MemberFrom(r.Context())
	out, err := h.Svc.GiftByCode(r.Context(), m.ShopID, r.PathValue("code"))
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) claim(w http.ResponseWriter, r *http.Request) error {
	m, _ := auth.MemberFrom(r.Context())
	out, err := h.Svc.ClaimGift(r.Context(), m.ShopID, m.ID, r.PathValue("code"))
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) trial(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	m, _ := auth.MemberFrom(r.Context())
	out, err := h.Svc.StartTrial(r.Context(), m.ShopID, m.ID, id)
	return httpx.Respond(w, http.StatusCreated, out, err)
}

func (h *Handlers) settings(w http.ResponseWriter, r *http.Request) error {
	st, _ := auth.StaffFrom(r.Context())
	out, err := h.Svc.Settings(r.Context(), st.ShopID)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) saveSettings(w http.ResponseWriter, r *http.Request) error {
	var in Settings
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	out, err := h.Svc.SaveSettings(r.Context(), st.ShopID, in)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) items(w http.ResponseWriter, r *http.Request) error {
	st, _ := auth.StaffFrom(r.Context())
	list, err := h.Svc.Items(r.Context(), st.ShopID)
	return httpx.Respond(w, http.StatusOK, ItemList{Items: list}, err)
}

func (h *Handlers) addItem(w http.ResponseWriter, r *http.Request) error {
	var in Item
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	out, err := h.Svc.AddItem(r.Context(), st.ShopID, in)
	return httpx.Respond(w, http.StatusCreated, out, err)
}

func (h *Handlers) deleteItem(w http.ResponseWriter, r *http.Request) error {
	st, _ := auth.StaffFrom(r.Context())
	err := h.Svc.DeleteItem(r.Context(), st.ShopID, r.PathValue("item"))
	return httpx.Respond(w, http.StatusNoContent, nil, err)
}

func (h *Handlers) trials(w http.ResponseWriter, r *http.Request) error {
	st, _ := auth.StaffFrom(r.Context())
	list, err := h.Svc.Trials(r.Context(), st.ShopID)
	return httpx.Respond(w, http.StatusOK, TrialList{Trials: list}, err)
}

func (h *Handlers) setTrial(w http.ResponseWriter, r *http.Request) error {
	var in Trial
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	out, err := h.Svc.SetTrial(r.Context(), st.ShopID, in)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) orders(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	f, err := orderFilter(r)
	if err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	list, err := h.Svc.Orders(r.Context(), st.ShopID, f, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, func(o Order) int64 { return o.ID }), err)
}

func orderFilter(r *http.Request) (OrderFilter, error) {
	q := r.URL.Query()
	f := OrderFilter{State: q.Get("state")}
	switch f.State {
	case "", StateCreated, StatePaid, StateRefunding, StateRefunded, StateRefundFailed, StateClosed:
	default:
		return f, errs.Field("state", "invalid_query", "state must be one of created, paid, refunding, refunded, refund_failed, closed")
	}
	if v := q.Get("member_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return f, errs.Field("member_id", "invalid_query", "member_id must be a positive integer")
		}
		f.MemberID = id
	}
	return f, nil
}

func (h *Handlers) order(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	out, err := h.Svc.OrderWithEvents(r.Context(), st.ShopID, id)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) staffRefund(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in RefundInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	out, err := h.Svc.StaffRefund(r.Context(), st.ShopID, st.AccountID, id, in)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) revenue(w http.ResponseWriter, r *http.Request) error {
	from, to, err := dayRange(r, time.Now())
	if err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	rows, err := h.Svc.RevenueByTarget(r.Context(), st.ShopID, from, to)
	return httpx.Respond(w, http.StatusOK, RevenueReport{From: from.UTC(), To: to.UTC(), Rows: rows}, err)
}

// dayRange reads ?from= and ?to= (China dates, inclusive) as [from, to+1d),
// by default the last 30 days, at most a year.
func dayRange(r *http.Request, now time.Time) (time.Time, time.Time, error) {
	today := now.In(china)
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, china)
	from, to := today.AddDate(0, 0, -29), today.AddDate(0, 0, 1)
	q := r.URL.Query()
	var err error
	if v := q.Get("from"); v != "" {
		if from, err = time.ParseInLocation("2006-01-02", v, china); err != nil {
			return from, to, errs.Field("from", "invalid_query", "from must be a date like 2026-12-01")
		}
	}
	if v := q.Get("to"); v != "" {
		if to, err = time.ParseInLocation("2006-01-02", v, china); err != nil {
			return from, to, errs.Field("to", "invalid_query", "to must be a date like 2026-12-07")
		}
		to = to.AddDate(0, 0, 1)
	}
	if !from.Before(to) || to.Sub(from) > 366*24*time.Hour {
		return from, to, errs.Field("to", "invalid_query", "to must be on or after from, at most a year later")
	}
	return from, to, nil
}
