package wxshipping

import (
	"net/http"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves the shipping reports to staff.
type Handlers struct{ Svc *Service }

// Routes registers the routes.
func (h *Handlers) Routes(api *httpx.API) {
	const admin = "admin: orders"
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/orders/{id}/wechat-shipping", Tag: admin, Access: httpx.Staff,
		Perm: auth.PermOrdersRead, Summary: "The order's shipping report to WeChat (发货信息): pending, uploaded or failed with WeChat's error",
		Response: Upload{}, Handler: h.get})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/orders/{id}/wechat-shipping/retry", Tag: admin, Access: httpx.Staff,
		Perm: auth.PermOrdersManage, Summary: "Report a failed shipment to WeChat again", Response: Upload{}, Handler: h.retry})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/wechat-shipping/failed", Tag: admin, Access: httpx.Staff,
		Perm: auth.PermOrdersRead, Summary: "Shipping reports that need staff: refused by WeChat (failed), or pending for over 30 minutes or after 5 attempts; newest shipment first, with why",
		Query: httpx.PageParams(), Response: httpx.Page[FailedUpload]{}, Handler: h.failed})
}

func (h *Handlers) failed(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQueryKeys(r, 2)
	if err != nil {
		return err
	}
	list, err := h.Svc.Failed(r.Context(), auth.StaffShop(r.Context()), after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOfKeys(list, limit, FailedUpload.FailedKeys), err)
}

func (h *Handlers) get(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	v, err := h.Svc.Get(r.Context(), st.ShopID, id)
	return httpx.Respond(w, http.StatusOK, v, err)
}

func (h *Handlers) retry(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	v, err := h.Svc.Retry(r.Context(), st.ShopID, id)
	return httpx.Respond(w, http.StatusOK, v, err)
}
