package points

import (
	"net/http"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// MallHandlers serves the points mall.
type MallHandlers struct{ Mall *Mall }

// Routes registers the points-mall routes.
func (h *MallHandlers) Routes(api *httpx.API) {
	const mini, staff = "mini: points mall", "admin: points mall"
	itemErrors := map[int][]string{400: {"coupon_not_found"}}
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/points-mall", Tag: mini, Access: httpx.Shop,
		Summary: "The points mall: items on the shelf, newest first", Query: httpx.PageParams(), Response: httpx.Page[BuyerItem]{}, Handler: h.shelf})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/points-mall/{id}/redeem", Tag: mini, Access: httpx.Member, Idempotent: true,
		Errors:  map[int][]string{400: {"address_required"}, 404: {"item_not_found", "address_not_found"}, 409: {"insufficient_points", "item_sold_out", "redeem_limit_reached", "coupon_limit_reached", "idempotency_key_reused"}, 410: {"coupon_unavailable"}},
		Summary: "Redeem an item with my points (a gift needs address_id); the Idempotency-Key header makes a retry return the same redemption",
		Request: RedeemInput{}, Response: BuyerRedemption{}, Status: http.StatusCreated, Handler: h.redeem})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/redemptions", Tag: mini, Access: httpx.Member,
		Summary: "My points-mall redemptions, newest first", Query: httpx.PageParams(), Response: httpx.Page[BuyerRedemption]{}, Handler: h.mine})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/points-mall/items", Tag: staff, Access: httpx.Staff, Perm: auth.PermMembersRead,
		Summary: "The points mall's items, newest first", Query: httpx.PageParams(), Response: httpx.Page[Item]{}, Handler: h.items})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/points-mall/items", Tag: staff, Access: httpx.Staff, Perm: auth.PermPointsManage,
		Errors: itemErrors, Summary: "Add an item (a coupon of the shop, or a gift staff ship)", Request: ItemInput{}, Response: Item{},
		Status: http.StatusCreated, Handler: h.createItem})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/points-mall/items/{id}", Tag: staff, Access: httpx.Staff, Perm: auth.PermPointsManage,
		Errors:  map[int][]string{404: {"item_not_found"}, 409: {"item_kind_fixed"}},
		Summary: "Replace an item (price, stock, limit, shelf; its kind and coupon stay)", Request: ItemInput{}, Response: Item{}, Handler: h.updateItem})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/points-mall/redemptions", Tag: staff, Access: httpx.Staff, Perm: auth.PermMembersRead,
		Summary: "Redemptions, newest first", Query: httpx.PageParams(), Response: httpx.Page[Redemption]{}, Handler: h.redemptions})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/points-mall/redemptions/{id}/ship", Tag: staff, Access: httpx.Staff, Perm: auth.PermPointsManage,
		Errors:  map[int][]string{404: {"redemption_not_found"}, 409: {"redemption_not_waiting"}},
		Summary: "Record a gift shipped", Request: ShipInput{}, Response: Redemption{}, Handler: h.ship})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/points-mall/redemptions/{id}/cancel", Tag: staff, Access: httpx.Staff, Perm: auth.PermPointsManage,
		Errors:  map[int][]string{404: {"redemption_not_found"}, 409: {"redemption_not_waiting"}},
		Summary: "Cancel a gift not yet shipped: the points and the stock come back", Response: Redemption{}, Handler: h.cancel})
}

func (h *MallHandlers) shelf(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	shopID := auth.ShopFrom(r.Context())
	list, err := h.Mall.Items(r.Context(), shopID, after, limit, true)
	out := make([]BuyerItem, len(list))
	for i, it := range list {
		out[i] = it.forBuyer()
	}
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(out, limit, func(it BuyerItem) int64 { return it.ID }), err)
}

func (h *MallHandlers) redeem(w http.ResponseWriter, r *http.Request) error {
	var in RedeemInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	m, _ := auth.MemberFrom(r.Context())
	red, err := h.Mall.Redeem(r.Context(), m.ShopID, m.ID, id, r.Header.Get("Idempotency-Key"), in)
	return httpx.Respond(w, http.StatusCreated, red.forBuyer(), err)
}

func (h *MallHandlers) mine(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	m, _ := auth.MemberFrom(r.Context())
	list, err := h.Mall.Redemptions(r.Context(), m.ShopID, m.ID, after, limit)
	out := make([]BuyerRedemption, len(list))
	for i, red := range list {
		out[i] = red.forBuyer()
	}
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(out, limit, func(b BuyerRedemption) int64 { return b.ID }), err)
}

func (h *MallHandlers) items(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	list, err := h.Mall.Items(r.Context(), st.ShopID, after, limit, false)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, func(it Item) int64 { return it.ID }), err)
}

func (h *MallHandlers) createItem(w http.ResponseWriter, r *http.Request) error {
	var in ItemInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	it, err := h.Mall.CreateItem(r.Context(), st.ShopID, in)
	return httpx.Respond(w, http.StatusCreated, it, err)
}

func (h *MallHandlers) updateItem(w http.ResponseWriter, r *http.Request) error {
	var in ItemInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	it, err := h.Mall.UpdateItem(r.Context(), st.ShopID, id, in)
	return httpx.Respond(w, http.StatusOK, it, err)
}

func (h *MallHandlers) redemptions(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	list, err := h.Mall.Redemptions(r.Context(), st.ShopID, 0, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, func(red Redemption) int64 { return red.ID }), err)
}

func (h *MallHandlers) ship(w http.ResponseWriter, r *http.Request) error {
	var in ShipInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	red, err := h.Mall.Ship(r.Context(), st.ShopID, id, in)
	return httpx.Respond(w, http.StatusOK, red, err)
}

func (h *MallHandlers) cancel(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	red, err := h.Mall.Cancel(r.Context(), st.ShopID, id)
	return httpx.Respond(w, http.StatusOK, red, err)
}
