package points

import (
	"context"
	"github.com/kaidian/kaidian/internal/member"
	"net/http"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves points to buyers and staff.
type Handlers struct{ Svc *Service }

// StaffAccount is a member's points for staff: the account, what expires
// when.
type StaffAccount struct {
	MemberID int64      `json:"member_id"`
	Account  Account    `json:"account"`
	Expiring []Expiring `json:"expiring"`
}

// Routes registers the points routes.
func (h *Handlers) Routes(api *httpx.API) {
	const mini, staff = "mini: points", "admin: points"
	memberNotFound := map[int][]string{404: {"member_not_found"}}
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/points", Tag: mini, Access: httpx.Member,
		Summary: "My points: balance, what expires when, and the shop's rules", Response: BuyerPoints{}, Handler: h.mine})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/points/entries", Tag: mini, Access: httpx.Member,
		Summary: "My points ledger, newest first", Query: httpx.PageParams(), Response: httpx.Page[BuyerEntry]{}, Handler: h.myEntries})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/points/settings", Tag: staff, Access: httpx.Staff, Perm: auth.PermMembersRead,
		Summary: "The shop's points rules", Response: Settings{}, Handler: h.settings})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/points/settings", Tag: staff, Access: httpx.Staff, Perm: auth.PermPointsManage,
		Summary: "Replace the shop's points rules (lots already earned keep their expiry)", Request: Settings{}, Response: Settings{}, Handler: h.saveSettings})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/members/{id}/points", Tag: staff, Access: httpx.Staff, Perm: auth.PermMembersRead,
		Errors: memberNotFound, Summary: "A member's points: balance, totals, what expires when", Response: StaffAccount{}, Handler: h.account})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/members/{id}/points/entries", Tag: staff, Access: httpx.Staff, Perm: auth.PermMembersRead,
		Errors: memberNotFound, Summary: "A member's points ledger, newest first", Query: httpx.PageParams(), Response: httpx.Page[Entry]{}, Handler: h.entries})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/members/{id}/points/adjust", Tag: staff, Access: httpx.Staff, Perm: auth.PermPointsManage,
		Idempotent: true, Errors: map[int][]string{404: {"member_not_found"}, 409: {"insufficient_points"}},
		Summary: "Add or take a member's points with a reason (logged in the ledger with who did it); the Idempotency-Key header makes a retry apply once",
		Request: AdjustInput{}, Response: Account{}, Handler: h.adjust})
}

func (h *Handlers) mine(w http.ResponseWriter, r *http.Request) error {
	m, _ := auth.MemberFrom(r.Context())
	out, err := h.Svc.buyerPoints(r.Context(), m.ShopID, m.ID)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) myEntries(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	m, _ := auth.MemberFrom(r.Context())
	list, err := h.Svc.Entries(r.Context(), m.ShopID, m.ID, after, limit)
	out := make([]BuyerEntry, len(list))
	for i, e := range list {
		out[i] = e.forBuyer()
	}
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(out, limit, func(e BuyerEntry) int64 { return e.ID }), err)
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

// member is the path's member of the staff's shop (404 otherwise).
func (h *Handlers) member(r *http.Request) (shopID, memberID int64, err error) {
	st, _ := auth.StaffFrom(r.Context())
	if memberID, err = httpx.PathID(r, "id"); err != nil {
		return 0, 0, err
	}
	return st.ShopID, memberID, member.InShop(r.Context(), h.Svc.db, st.ShopID, memberID)
}

func (h *Handlers) account(w http.ResponseWriter, r *http.Request) error {
	shopID, memberID, err := h.member(r)
	if err != nil {
		return err
	}
	out, err := h.Svc.staffAccount(r.Context(), shopID, memberID)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (h *Handlers) entries(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	shopID, memberID, err := h.member(r)
	if err != nil {
		return err
	}
	list, err := h.Svc.Entries(r.Context(), shopID, memberID, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, func(e Entry) int64 { return e.ID }), err)
}

func (h *Handlers) adjust(w http.ResponseWriter, r *http.Request) error {
	var in AdjustInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	memberID, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	out, err := h.Svc.Adjust(r.Context(), st.ShopID, memberID, st.AccountID, r.Header.Get("Idempotency-Key"), in)
	return httpx.Respond(w, http.StatusOK, out, err)
}

func (s *Service) buyerPoints(ctx context.Context, shopID, memberID int64) (BuyerPoints, error) {
	st, err := s.Settings(ctx, shopID)
	if err != nil {
		return BuyerPoints{}, err
	}
	a, err := s.Account(ctx, shopID, memberID)
	if err != nil {
		return BuyerPoints{}, err
	}
	exp, err := s.ExpiringSoon(ctx, shopID, memberID)
	return BuyerPoints{Balance: a.Balance, Earned: a.Earned, Expiring: exp, Enabled: st.Enabled, EarnPerYuan: st.EarnPerYuan,
		RedeemPerYuan: st.RedeemPerYuan, RedeemCapBP: st.RedeemCapBP}, err
}

func (s *Service) staffAccount(ctx context.Context, shopID, memberID int64) (StaffAccount, error) {
	a, err := s.Account(ctx, shopID, memberID)
	if err != nil {
		return StaffAccount{}, err
	}
	exp, err := s.ExpiringSoon(ctx, shopID, memberID)
	return StaffAccount{MemberID: memberID, Account: a, Expiring: exp}, err
}
