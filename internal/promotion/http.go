package promotion

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves flash sales and coupons.
type Handlers struct {
	Svc      *Service
	ClientIP func(r *http.Request) string
	// PerAddress is how many claims one address may send per second (0 = 20).
	PerAddress int
	addresses  addressLimiter
}

type claimRequest struct {
	Quantity *int64 `json:"quantity" doc:"1 (the default) up to the sale's per-user limit"`
	Token    string `json:"token" doc:"from GET /api/v1/flash-sales/{id}/token"`
}

type tokenResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

type bindRequest struct {
	PromoterID int64 `json:"promoter_id"`
}

type withdrawRequest struct {
	Amount int64 `json:"amount" doc:"fen"`
}

type commissionRequest struct {
	PerUnit int64 `json:"per_unit" doc:"fen per unit; -1 removes the product's own commission"`
}

type grantRequest struct {
	MemberID int64 `json:"member_id"`
}

// Routes registers the promotion routes.
func (h *Handlers) Routes(api *httpx.API) {
	const mini = "mini: promotions"
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/flash-sales", Tag: mini, Access: httpx.Shop,
		Summary: "The shop's current and upcoming flash sales, latest start first", Query: httpx.PageParams(), Response: httpx.Page[BuyerSale]{}, Handler: h.currentSales})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/flash-sales/{id}", Tag: mini, Access: httpx.Shop,
		Summary: "One flash sale with its remaining units", Response: BuyerSale{}, Handler: h.publicSale})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/flash-sales/{id}/token", Errors: map[int][]string{404: {"flash_sale_not_found"}, 409: {"flash_sale_not_started"}, 410: {"flash_sale_ended", "sold_out"}}, RateLimited: true, Tag: mini, Access: httpx.Member,
		Summary: "A claim token for me (issued from 5 minutes before the start, good for 30 minutes)", Response: tokenResponse{}, Handler: h.token})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/flash-sales/{id}/claim", Errors: map[int][]string{400: {"flash_token_invalid", "flash_token_used"}, 404: {"flash_sale_not_found"}, 409: {"flash_sale_not_started", "already_claimed", "not_enough_left"}, 410: {"flash_sale_ended", "sold_out"}}, RateLimited: true, Tag: mini, Access: httpx.Member, Status: http.StatusCreated,
		Summary: "Claim units of a flash sale; then check out with flash_claim_id before expires_at",
		Request: claimRequest{}, Response: Claim{}, Handler: h.claim, HotAuth: true})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/group-deals", Tag: mini, Access: httpx.Shop,
		Summary: "The shop's running group-buying deals, newest first; open a group with POST /api/v1/orders {group_deal_id}", Query: httpx.PageParams(), Response: httpx.Page[BuyerDeal]{}, Handler: h.currentDeals})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/group-deals/{id}", Tag: mini, Access: httpx.Shop,
		Summary: "A group-buying deal with its tiers", Response: BuyerDeal{}, Handler: h.publicDeal})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/groups/{id}", Tag: mini, Access: httpx.Shop,
		Summary:  "A group (the share link): who joined, how many are missing, time left; join with POST /api/v1/orders {group_id}",
		Response: GroupView{}, Handler: h.group})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/timed-discounts", Tag: mini, Access: httpx.Shop,
		Summary: "Time-limited prices (限时折扣) running or scheduled, soonest start first; checkout applies them", Query: httpx.PageParams(), Response: httpx.Page[BuyerTimedDiscount]{}, Handler: h.timedDiscounts})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/coupons", Tag: mini, Access: httpx.Shop,
		Summary: "Coupons buyers can claim now, newest first", Query: httpx.PageParams(), Response: httpx.Page[BuyerCoupon]{}, Handler: h.claimableCoupons})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/coupons/{id}/claim", Errors: map[int][]string{403: {"coupon_not_claimable"}, 404: {"coupon_not_found"}, 409: {"already_claimed", "coupon_limit_reached"}, 410: {"coupon_expired", "coupon_unavailable"}}, Tag: mini, Access: httpx.Member, Status: http.StatusCreated,
		Summary: "Claim a coupon into my wallet", Response: WalletCoupon{}, Handler: h.claimCoupon})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/coupons", Tag: mini, Access: httpx.Member,
		Summary: "My coupon wallet: unused first, soonest to expire first", Query: httpx.PageParams(), Response: httpx.Page[WalletCoupon]{}, Handler: h.wallet})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/referrals", Tag: mini, Access: httpx.Member,
		Summary: "Bind me to the promoter whose share link I came through (the first live binding wins)",
		Request: bindRequest{}, Response: Binding{}, Handler: h.bind})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/me/promoter", Errors: map[int][]string{409: {"distribution_disabled"}}, Tag: mini, Access: httpx.Member,
		Summary: "Become a promoter (分销员)", Response: BuyerPromoter{}, Handler: h.becomePromoter})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/promoter", Errors: map[int][]string{404: {"not_a_promoter"}}, Tag: mini, Access: httpx.Member,
		Summary: "My promoter account: frozen, available, withdrawing, paid out", Response: BuyerPromoter{}, Handler: h.myPromoter})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/commissions", Errors: map[int][]string{404: {"not_a_promoter"}}, Tag: mini, Access: httpx.Member,
		Summary: "My commissions, newest first", Query: httpx.PageParams(), Response: httpx.Page[BuyerCommission]{}, Handler: h.myCommissions})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/me/withdrawals", Errors: map[int][]string{404: {"not_a_promoter"}}, Tag: mini, Access: httpx.Member, Status: http.StatusCreated,
		Summary: "Ask to withdraw from my available balance", Request: withdrawRequest{}, Response: BuyerWithdrawal{}, Handler: h.withdraw})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/withdrawals", Errors: map[int][]string{404: {"not_a_promoter"}}, Tag: mini, Access: httpx.Member,
		Summary: "My withdrawals, newest first", Query: httpx.PageParams(), Response: httpx.Page[BuyerWithdrawal]{}, Handler: h.myWithdrawals})

	const admin = "admin: promotions"
	read, manage := auth.PermPromotionsRead, auth.PermPromotionsManage
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/flash-sales", Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "Flash sales, newest first", Query: httpx.PageParams(), Response: httpx.Page[Sale]{}, Handler: h.listSales})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/flash-sales", Tag: admin, Access: httpx.Staff, Perm: manage, Status: http.StatusCreated,
		Summary: "Create a flash sale (its units leave the SKU's stock at once)", Request: NewSale{}, Response: Sale{}, Handler: h.createSale})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/flash-sales/{id}", Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "A flash sale's results: claims, orders, buyers, GMV, refunds", Response: SaleResults{}, Handler: h.saleResults})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/group-deals", Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "Group-buying deals, newest first", Query: httpx.PageParams(), Response: httpx.Page[Deal]{}, Handler: h.listDeals})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/group-deals", Tag: admin, Access: httpx.Staff, Perm: manage, Status: http.StatusCreated,
		Summary: "Create a group-buying deal with tiered prices by group size", Request: NewDeal{}, Response: Deal{}, Handler: h.createDeal})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/group-deals/{id}", Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "A deal's results: groups (succeeded, failed, virtual), members, GMV, refunds", Response: DealResults{}, Handler: h.dealResults})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/groups/{id}", Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "A group, with virtual members shown as such", Response: GroupView{}, Handler: h.staffGroup})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/distribution/settings", Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "Distribution settings", Response: DistributionSettings{}, Handler: h.settings})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/distribution/settings", Tag: admin, Access: httpx.Staff, Perm: manage,
		Summary: "Set distribution: binding period, commission rates (one or two levels), after-sales window, referral coupon",
		Request: DistributionSettings{}, Response: DistributionSettings{}, Handler: h.setSettings})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/products/{id}/commission", Tag: admin, Access: httpx.Staff, Perm: manage,
		Summary: "Set a product's fixed level-one commission per unit (per_unit -1 removes it)", Status: http.StatusNoContent,
		Request: commissionRequest{}, Handler: h.setProductCommission})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/promoters", Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "Promoters and their balances, newest first", Query: httpx.PageParams(), Response: httpx.Page[Promoter]{}, Handler: h.listPromoters})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/promoters/{id}/commissions", Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "A promoter's commissions, newest first", Query: httpx.PageParams(), Response: httpx.Page[Commission]{}, Handler: h.promoterCommissions})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/withdrawals", Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "Withdrawal requests, newest first", Query: httpx.PageParams(httpx.Param{Name: "status", Type: "string", Description: "requested, approved, rejected or paid"}),
		Response: httpx.Page[Withdrawal]{}, Handler: h.listWithdrawals})
	for _, action := range []string{"approve", "reject", "pay"} {
		api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/withdrawals/{id}/" + action, Errors: map[string]map[int][]string{"pay": {400: {"reference_required"}, 409: {"payable_changed"}}}[action], Tag: admin, Access: httpx.Staff, Perm: manage,
			Summary: map[string]string{"approve": "Approve a withdrawal (above the withdrawal limit, two different people approve)", "reject": "Reject a withdrawal (the amount goes back to available)",
				"pay": "Record that an approved withdrawal was paid out, with its reference (payable: the fen transferred, after what the promoter owes from claw-backs)"}[action],
			Request: DecideInput{}, Response: Withdrawal{}, Handler: h.decide(action)})
	}
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/withdrawals/{id}/decisions", Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "A withdrawal's decisions: who approved, rejected or paid it, oldest first (the whole list, not a page: a withdrawal takes at most a few decisions)", Response: []WithdrawalDecision{}, Handler: h.withdrawalDecisions})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/withdrawal-policy", Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "Above which amount a withdrawal needs two approvers", Response: WithdrawalPolicy{}, Handler: h.withdrawalPolicy})
	// Setting the limit is the owner's, as the refund limit is.
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/withdrawal-policy", Tag: admin, Access: httpx.Staff, Perm: auth.PermRefundsApprove,
		Summary: "Set above which amount a withdrawal needs two different approvers (null: one approval for any amount)",
		Request: WithdrawalPolicy{}, Response: WithdrawalPolicy{}, Handler: h.setWithdrawalPolicy})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/timed-discounts", Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "Time-limited prices not ended yet, soonest start first", Query: httpx.PageParams(), Response: httpx.Page[TimedDiscount]{}, Handler: h.staffTimedDiscounts})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/timed-discounts", Tag: admin, Access: httpx.Staff, Perm: manage, Status: http.StatusCreated,
		Summary: "Schedule a time-limited price (限时折扣) for a SKU", Request: NewTimedDiscount{}, Response: TimedDiscount{}, Handler: h.createTimedDiscount})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/coupons", Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "Coupons, newest first", Query: httpx.PageParams(), Response: httpx.Page[Coupon]{}, Handler: h.listCoupons})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/coupons", Tag: admin, Access: httpx.Staff, Perm: manage, Status: http.StatusCreated,
		Summary: "Create a coupon", Request: NewCoupon{}, Response: Coupon{}, Handler: h.createCoupon})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/coupons/{id}", Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "A coupon", Response: Coupon{}, Handler: h.getCoupon})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/coupons/{id}/results", Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "A coupon's results: orders, buyers, discount given, GMV, refunds", Response: CouponResults{}, Handler: h.couponResults})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/coupons/{id}/disable", Tag: admin, Access: httpx.Staff, Perm: manage,
		Summary: "Stop issuing a coupon (copies in wallets stay usable)", Response: Coupon{}, Handler: h.disableCoupon})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/coupons/{id}/grant", Errors: map[int][]string{400: {"member_id_required"}}, Tag: admin, Access: httpx.Staff, Perm: manage, Status: http.StatusCreated,
		Summary: "Give a coupon to a buyer", Request: grantRequest{}, Response: WalletCoupon{}, Handler: h.grantCoupon})
}

// page answers one page of a staff list (?cursor=, ?limit=).
func page[T any](w http.ResponseWriter, r *http.Request, shopID int64,
	list func(ctx context.Context, shopID, after int64, limit int) ([]T, error), key func(T) int64) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	rows, err := list(r.Context(), shopID, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(rows, limit, key), err)
}

// buyerPage answers a page of a mini-program list (the shop from the appid)
// in the buyers' view of its items.
func buyerPage[T, B any](w http.ResponseWriter, r *http.Request,
	list func(ctx context.Context, shopID, after int64, limit int) ([]T, error), key func(T) int64, view func(T) B) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	rows, err := list(r.Context(), auth.ShopFrom(r.Context()), after, limit)
	if err != nil {
		return err
	}
	p := httpx.PageOf(rows, limit, key)
	items, _ := forBuyers(p.Items, nil, view)
	return httpx.Respond(w, http.StatusOK, httpx.Page[B]{Items: items, NextCursor: p.NextCursor}, nil)
}

// keyedPage answers a page of a list ordered by two keys (a date, then the
// id), with a cursor of the last item's keys, each item shown through view.
func keyedPage[T, V any](w http.ResponseWriter, r *http.Request, shopID int64,
	list func(ctx context.Context, shopID int64, after []int64, limit int) ([]T, error), keys func(T) []int64, view func(T) V) error {
	after, limit, err := httpx.PageQueryKeys(r, 2)
	if err != nil {
		return err
	}
	rows, err := list(r.Context(), shopID, after, limit)
	if err != nil {
		return err
	}
	p := httpx.PageOfKeys(rows, limit, keys)
	items, _ := forBuyers(p.Items, nil, view)
	return httpx.Respond(w, http.StatusOK, httpx.Page[V]{Items: items, NextCursor: p.NextCursor}, nil)
}

func staffShop(r *http.Request) int64 {
	st, _ := auth.StaffFrom(r.Context())
	return st.ShopID
}

func member(r *http.Request) auth.Member {
	m, _ := auth.MemberFrom(r.Context())
	return m
}

func (h *Handlers) currentSales(w http.ResponseWriter, r *http.Request) error {
	return keyedPage(w, r, auth.ShopFrom(r.Context()), h.Svc.CurrentSalesPage, Sale.SaleKeys, Sale.forBuyer)
}

func (h *Handlers) publicSale(w http.ResponseWriter, r *http.Request) error {
	return h.withID(w, r, http.StatusOK, func(id int64) (any, error) {
		sl, err := h.Svc.Sale(r.Context(), auth.ShopFrom(r.Context()), id)
		return sl.forBuyer(), err
	})
}

func (h *Handlers) token(w http.ResponseWriter, r *http.Request) error {
	return h.withID(w, r, http.StatusOK, func(id int64) (any, error) {
		m := member(r)
		tok, exp, err := h.Svc.Claimer.Token(r.Context(), m.ShopID, id, m.ID)
		return tokenResponse{Token: tok, ExpiresAt: exp}, err
	})
}

func (h *Handlers) claim(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if h.ClientIP != nil {
		if wait := h.addresses.wait(h.ClientIP(r), h.PerAddress, time.Now()); wait > 0 {
			return tooFast(wait)
		}
	}
	var in claimRequest
	if err := httpx.Decode(w, r, &in, 4<<10); err != nil {
		return err
	}
	qty := int64(1)
	if in.Quantity != nil {
		qty = *in.Quantity
	}
	if qty < 1 {
		return errs.Field("quantity", "invalid_quantity", "must be at least 1")
	}
	m := member(r)
	v, err := h.Svc.Claimer.Claim(r.Context(), m.ShopID, id, m.ID, qty, in.Token)
	return httpx.Respond(w, http.StatusCreated, v, err)
}

func (h *Handlers) claimableCoupons(w http.ResponseWriter, r *http.Request) error {
	return buyerPage(w, r, h.Svc.ClaimableCouponsPage, func(x Coupon) int64 { return x.ID }, Coupon.forBuyer)
}

func (h *Handlers) claimCoupon(w http.ResponseWriter, r *http.Request) error {
	return h.withID(w, r, http.StatusCreated, func(id int64) (any, error) {
		m := member(r)
		return h.Svc.ClaimCoupon(r.Context(), m.ShopID, m.ID, id)
	})
}

func (h *Handlers) wallet(w http.ResponseWriter, r *http.Request) error {
	m := member(r)
	after, limit, err := httpx.PageQueryKeys(r, 3)
	if err != nil {
		return err
	}
	v, err := h.Svc.WalletPage(r.Context(), m.ShopID, m.ID, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOfKeys(v, limit, WalletCoupon.WalletKeys), err)
}

func (h *Handlers) listSales(w http.ResponseWriter, r *http.Request) error {
	return page(w, r, staffShop(r), h.Svc.SalesPage, func(x Sale) int64 { return x.ID })
}

func (h *Handlers) createSale(w http.ResponseWriter, r *http.Request) error {
	var in NewSale
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	v, err := h.Svc.CreateSale(r.Context(), staffShop(r), in)
	return httpx.Respond(w, http.StatusCreated, v, err)
}

func (h *Handlers) saleResults(w http.ResponseWriter, r *http.Request) error {
	return h.withID(w, r, http.StatusOK, func(id int64) (any, error) { return h.Svc.Results(r.Context(), staffShop(r), id) })
}

func (h *Handlers) currentDeals(w http.ResponseWriter, r *http.Request) error {
	return buyerPage(w, r, h.Svc.CurrentDealsPage, func(x Deal) int64 { return x.ID }, Deal.forBuyer)
}

func (h *Handlers) publicDeal(w http.ResponseWriter, r *http.Request) error {
	return h.withID(w, r, http.StatusOK, func(id int64) (any, error) {
		d, err := h.Svc.Deal(r.Context(), auth.ShopFrom(r.Context()), id)
		return d.forBuyer(), err
	})
}

func (h *Handlers) group(w http.ResponseWriter, r *http.Request) error {
	return h.withID(w, r, http.StatusOK, func(id int64) (any, error) { return h.Svc.Group(r.Context(), auth.ShopFrom(r.Context()), id) })
}

func (h *Handlers) timedDiscounts(w http.ResponseWriter, r *http.Request) error {
	return keyedPage(w, r, auth.ShopFrom(r.Context()), h.Svc.TimedDiscountsPage, TimedDiscount.TimedKeys, TimedDiscount.forBuyer)
}

func (h *Handlers) staffTimedDiscounts(w http.ResponseWriter, r *http.Request) error {
	return keyedPage(w, r, staffShop(r), h.Svc.TimedDiscountsPage, TimedDiscount.TimedKeys, func(t TimedDiscount) TimedDiscount { return t })
}

func (h *Handlers) createTimedDiscount(w http.ResponseWriter, r *http.Request) error {
	var in NewTimedDiscount
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	v, err := h.Svc.CreateTimedDiscount(r.Context(), staffShop(r), in)
	return httpx.Respond(w, http.StatusCreated, v, err)
}

func (h *Handlers) listDeals(w http.ResponseWriter, r *http.Request) error {
	return page(w, r, staffShop(r), h.Svc.DealsPage, func(x Deal) int64 { return x.ID })
}

func (h *Handlers) createDeal(w http.ResponseWriter, r *http.Request) error {
	var in NewDeal
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	v, err := h.Svc.CreateDeal(r.Context(), staffShop(r), in)
	return httpx.Respond(w, http.StatusCreated, v, err)
}

func (h *Handlers) dealResults(w http.ResponseWriter, r *http.Request) error {
	return h.withID(w, r, http.StatusOK, func(id int64) (any, error) { return h.Svc.DealResults(r.Context(), staffShop(r), id) })
}

func (h *Handlers) staffGroup(w http.ResponseWriter, r *http.Request) error {
	return h.withID(w, r, http.StatusOK, func(id int64) (any, error) { return h.Svc.Group(r.Context(), staffShop(r), id) })
}

func (h *Handlers) listCoupons(w http.ResponseWriter, r *http.Request) error {
	return page(w, r, staffShop(r), h.Svc.CouponsPage, func(x Coupon) int64 { return x.ID })
}

func (h *Handlers) createCoupon(w http.ResponseWriter, r *http.Request) error {
	var in NewCoupon
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	v, err := h.Svc.CreateCoupon(r.Context(), staffShop(r), in)
	return httpx.Respond(w, http.StatusCreated, v, err)
}

func (h *Handlers) getCoupon(w http.ResponseWriter, r *http.Request) error {
	return h.withID(w, r, http.StatusOK, func(id int64) (any, error) { return h.Svc.Coupon(r.Context(), staffShop(r), id) })
}

func (h *Handlers) couponResults(w http.ResponseWriter, r *http.Request) error {
	return h.withID(w, r, http.StatusOK, func(id int64) (any, error) { return h.Svc.CouponResults(r.Context(), staffShop(r), id) })
}

func (h *Handlers) disableCoupon(w http.ResponseWriter, r *http.Request) error {
	return h.withID(w, r, http.StatusOK, func(id int64) (any, error) {
		if err := h.Svc.DisableCoupon(r.Context(), staffShop(r), id); err != nil {
			return nil, err
		}
		return h.Svc.Coupon(r.Context(), staffShop(r), id)
	})
}

func (h *Handlers) grantCoupon(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in grantRequest
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	if in.MemberID <= 0 {
		return errs.Field("member_id", "member_id_required", "must be a member id")
	}
	v, err := h.Svc.GrantCoupon(r.Context(), staffShop(r), in.MemberID, id)
	return httpx.Respond(w, http.StatusCreated, v, err)
}

func (h *Handlers) bind(w http.ResponseWriter, r *http.Request) error {
	var in bindRequest
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	if in.PromoterID <= 0 {
		return errs.Field("promoter_id", "promoter_id_required", "must be a promoter id")
	}
	m := member(r)
	v, err := h.Svc.Bind(r.Context(), m.ShopID, m.ID, in.PromoterID)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) becomePromoter(w http.ResponseWriter, r *http.Request) error {
	m := member(r)
	v, err := h.Svc.BecomePromoter(r.Context(), m.ShopID, m.ID)
	return httpx.Respond(w, http.StatusOK, v.forBuyer(), err)
}

func (h *Handlers) myPromoter(w http.ResponseWriter, r *http.Request) error {
	m := member(r)
	v, err := h.Svc.MyPromoter(r.Context(), m.ShopID, m.ID)
	return httpx.Respond(w, http.StatusOK, v.forBuyer(), err)
}

func (h *Handlers) myCommissions(w http.ResponseWriter, r *http.Request) error {
	m := member(r)
	p, err := h.Svc.MyPromoter(r.Context(), m.ShopID, m.ID)
	if err != nil {
		return err
	}
	return page(w, r, m.ShopID, func(ctx context.Context, shopID, after int64, limit int) ([]BuyerCommission, error) {
		rows, err := h.Svc.Commissions(ctx, shopID, p.ID, after, limit)
		return buyerCommissions(rows), err
	}, func(x BuyerCommission) int64 { return x.ID })
}

func (h *Handlers) withdraw(w http.ResponseWriter, r *http.Request) error {
	var in withdrawRequest
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	m := member(r)
	v, err := h.Svc.Withdraw(r.Context(), m.ShopID, m.ID, in.Amount)
	return httpx.Respond(w, http.StatusCreated, v.forBuyer(), err)
}

func (h *Handlers) myWithdrawals(w http.ResponseWriter, r *http.Request) error {
	m := member(r)
	p, err := h.Svc.MyPromoter(r.Context(), m.ShopID, m.ID)
	if err != nil {
		return err
	}
	return page(w, r, m.ShopID, func(ctx context.Context, shopID, after int64, limit int) ([]BuyerWithdrawal, error) {
		list, err := h.Svc.Withdrawals(ctx, shopID, p.ID, "", after, limit)
		return forBuyers(list, err, Withdrawal.forBuyer)
	}, func(x BuyerWithdrawal) int64 { return x.ID })
}

func (h *Handlers) settings(w http.ResponseWriter, r *http.Request) error {
	v, err := h.Svc.Settings(r.Context(), h.Svc.db, staffShop(r))
	return httpx.Respond(w, http.StatusOK, v, errs.Wrap("distribution settings", err))
}

func (h *Handlers) setSettings(w http.ResponseWriter, r *http.Request) error {
	var in DistributionSettings
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	v, err := h.Svc.SetSettings(r.Context(), staffShop(r), in)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) setProductCommission(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in commissionRequest
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	if err := h.Svc.SetProductCommission(r.Context(), staffShop(r), id, in.PerUnit); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) listPromoters(w http.ResponseWriter, r *http.Request) error {
	return page(w, r, staffShop(r), h.Svc.Promoters, func(x Promoter) int64 { return x.ID })
}

func (h *Handlers) promoterCommissions(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var n int
	if err := h.Svc.db.QueryRow(r.Context(), `SELECT COUNT(*) FROM promoters WHERE id = ? AND shop_id = ?`, id, staffShop(r)).Scan(&n); err != nil || n == 0 {
		return errPromoterNotFound
	}
	return page(w, r, staffShop(r), func(ctx context.Context, shopID, after int64, limit int) ([]Commission, error) {
		return h.Svc.Commissions(ctx, shopID, id, after, limit)
	}, func(x Commission) int64 { return x.ID })
}

func (h *Handlers) listWithdrawals(w http.ResponseWriter, r *http.Request) error {
	status := r.URL.Query().Get("status")
	if status != "" && status != "requested" && status != "approved" && status != "rejected" && status != "paid" {
		return errs.Field("status", "invalid_status", "must be requested, approved, rejected or paid")
	}
	return page(w, r, staffShop(r), func(ctx context.Context, shopID, after int64, limit int) ([]Withdrawal, error) {
		return h.Svc.Withdrawals(ctx, shopID, 0, status, after, limit)
	}, func(x Withdrawal) int64 { return x.ID })
}

func (h *Handlers) decide(action string) httpx.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := httpx.PathID(r, "id")
		if err != nil {
			return err
		}
		var in DecideInput
		if err := httpx.Decode(w, r, &in, 0); err != nil {
			return err
		}
		st, _ := auth.StaffFrom(r.Context())
		v, err := h.Svc.Decide(r.Context(), st, id, action, in)
		return httpx.Respond(w, http.StatusOK, v, err)
	}
}

func (h *Handlers) withdrawalDecisions(w http.ResponseWriter, r *http.Request) error {
	return h.withID(w, r, http.StatusOK, func(id int64) (any, error) {
		return h.Svc.WithdrawalDecisions(r.Context(), staffShop(r), id)
	})
}

func (h *Handlers) withdrawalPolicy(w http.ResponseWriter, r *http.Request) error {
	v, err := h.Svc.WithdrawalPolicy(r.Context(), staffShop(r))
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) setWithdrawalPolicy(w http.ResponseWriter, r *http.Request) error {
	var in WithdrawalPolicy
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	v, err := h.Svc.SetWithdrawalPolicy(r.Context(), st.ShopID, st.AccountID, in)
	return httpx.Respond(w, http.StatusOK, v, err)
}

// withID reads the {id} path value, runs fn and responds with its result.
func (h *Handlers) withID(w http.ResponseWriter, r *http.Request, status int, fn func(id int64) (any, error)) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	v, err := fn(id)
	return httpx.Respond(w, status, v, err)
}

// addressLimiter counts claims per address in one-second windows, in
// memory: a flash sale's burst must not reach the database to be limited.
type addressLimiter struct {
	mu     sync.Mutex
	second int64
	counts map[string]int
}

// wait counts a claim from addr and returns 0 when it is within perSecond
// for the current second, else how long until the next second starts
// counting afresh (the Retry-After).
func (l *addressLimiter) wait(addr string, perSecond int, now time.Time) time.Duration {
	if perSecond <= 0 {
		perSecond = 20
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if sec := now.Unix(); sec != l.second || l.counts == nil {
		l.second, l.counts = sec, map[string]int{}
	}
	l.counts[addr]++
	if l.counts[addr] <= perSecond {
		return 0
	}
	return time.Second - time.Duration(now.Nanosecond())
}
