package agency

import (
	"net/http"

	"github.com/kaidian/kaidian/internal/account"
	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves the agency routes: operators manage agency accounts and
// their shops; every admin lists the shops it may act on.
type Handlers struct{ Svc *Service }

// NewAgency is what an operator gives to create an agency account.
type NewAgency struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Password    string `json:"password"`
}

// Routes registers the agency routes.
func (h *Handlers) Routes(api *httpx.API) {
	const tag = "admin: agencies"
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/me/shops", Tag: tag, Access: httpx.Staff,
		Summary:  "The shops this login may act on (send one's id in X-Shop-Id): an agency's granted shops, every shop for operators, a staff member's own shop",
		Query:    httpx.PageParams(),
		Response: httpx.Page[Grant]{}, Handler: h.myShops})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/agencies", Tag: tag, Access: httpx.Staff, Perm: auth.PermShops,
		Summary: "Agency accounts, oldest first (operators)", Query: httpx.PageParams(), Response: httpx.Page[account.Account]{}, Handler: h.list})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/agencies", Tag: tag, Access: httpx.Staff, Perm: auth.PermShops, StepUp: true,
		Summary: "Create an agency account: one login for the shops granted to it (operators)", Request: NewAgency{},
		Response: account.Account{}, Status: http.StatusCreated, Handler: h.create})
	api.Add(httpx.Route{Method: "PATCH", Path: "/admin/api/v1/agencies/{id}", Tag: tag, Access: httpx.Staff, Perm: auth.PermShops, StepUp: true,
		Summary: "Rename, disable or enable an agency account, or reset its password (disabling or a reset ends its sessions at once; operators)",
		Request: AgencyUpdate{}, Response: account.Account{}, Handler: h.update})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/agencies/{id}/shops", Tag: tag, Access: httpx.Staff, Perm: auth.PermShops,
		Summary: "The shops granted to an agency account, by shop id (operators)", Query: httpx.PageParams(),
		Response: httpx.Page[Grant]{}, Handler: h.grants})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/agencies/{id}/shops", Tag: tag, Access: httpx.Staff, Perm: auth.PermShops, StepUp: true,
		Summary: "Grant a shop to an agency account with a role there, or change its role (operators; logged)", Request: GrantInput{},
		Response: Grant{}, Handler: h.grant})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/agencies/{id}/revoke", Tag: tag, Access: httpx.Staff, Perm: auth.PermShops, StepUp: true,
		Summary: "Take a shop away from an agency account, at once (operators; logged)", Request: RevokeInput{},
		Status: http.StatusNoContent, Handler: h.revoke})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/agencies/{id}/events", Tag: tag, Access: httpx.Staff, Perm: auth.PermShops,
		Summary: "An agency account's grants and revocations, newest first (operators)", Query: httpx.PageParams(),
		Response: httpx.Page[Event]{}, Handler: h.events})
}

func (h *Handlers) myShops(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	rows, err := h.Svc.MyShops(r.Context(), st, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(rows, limit, func(g Grant) int64 { return g.ShopID }), err)
}

func (h *Handlers) list(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	rows, err := h.Svc.List(r.Context(), after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(rows, limit, func(a account.Account) int64 { return a.ID }), err)
}

func (h *Handlers) create(w http.ResponseWriter, r *http.Request) error {
	var in NewAgency
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	a, err := h.Svc.CreateAccount(r.Context(), account.NewAccount{Username: in.Username, DisplayName: in.DisplayName, Password: in.Password})
	return httpx.Respond(w, http.StatusCreated, a, err)
}

// AgencyUpdate changes an agency account; nil fields stay as they are.
type AgencyUpdate struct {
	DisplayName *string `json:"display_name,omitempty"`
	Disabled    *bool   `json:"disabled,omitempty"`
	Password    *string `json:"password,omitempty" doc:"a new password; ends the account's sessions"`
}

func (h *Handlers) update(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in AgencyUpdate
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	a, err := h.Svc.UpdateAccount(r.Context(), st.AccountID, id, account.StaffUpdate{DisplayName: in.DisplayName, Disabled: in.Disabled, Password: in.Password})
	return httpx.Respond(w, http.StatusOK, a, err)
}

func (h *Handlers) grants(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	rows, err := h.Svc.Grants(r.Context(), id, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(rows, limit, func(g Grant) int64 { return g.ShopID }), err)
}

func (h *Handlers) grant(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in GrantInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	g, err := h.Svc.Grant(r.Context(), st.AccountID, id, in)
	return httpx.Respond(w, http.StatusOK, g, err)
}

func (h *Handlers) revoke(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in RevokeInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	if err := h.Svc.Revoke(r.Context(), st.AccountID, id, in.ShopID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) events(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	before, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	rows, err := h.Svc.Events(r.Context(), id, before, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(rows, limit, func(e Event) int64 { return e.ID }), err)
}
