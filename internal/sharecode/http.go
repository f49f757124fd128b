package sharecode

import (
	"net/http"
	"strconv"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves codes as PNG images.
type Handlers struct{ Svc *Service }

var codeParams = []httpx.Param{
	{Name: "page", Type: "string", Description: "the page the code opens (default pages/goods/detail for products, pages/index/index for promoters)"},
	{Name: "env_version", Type: "string", Description: "release (default), trial or develop"},
	{Name: "width", Type: "integer", Description: "pixels, 280 to 1280 (default 430)"},
}

var codeErrors = map[int][]string{400: {"page_not_published"}, 503: {"wechat_quota", "wechat_error", "wechat_unavailable", "app_secret_missing"}}

// Routes registers the routes.
func (h *Handlers) Routes(api *httpx.API) {
	productErrors := map[int][]string{404: {"product_not_found"}}
	for k, v := range codeErrors {
		productErrors[k] = v
	}
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/products/{id}/share-code", Tag: "mini: sharing", Access: httpx.Member,
		Query: codeParams, Errors: productErrors,
		Summary: "The product's mini-program code (image/png) as I share it: its scene is g=<product id>, with &p=<promoter id> when I am a promoter, so a scan binds the visitor to me",
		Handler: h.productMine})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/promoter/code", Tag: "mini: sharing", Access: httpx.Member,
		Query: codeParams, Errors: map[int][]string{404: {"not_a_promoter"}, 400: codeErrors[400], 503: codeErrors[503]},
		Summary: "My promoter poster's mini-program code (image/png), scene p=<promoter id>", Handler: h.promoter})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/products/{id}/share-code", Tag: "admin: products", Access: httpx.Staff,
		Perm: auth.PermCatalogRead, Query: codeParams, Errors: productErrors,
		Summary: "The product's mini-program code (image/png) for posters, scene g=<product id>", Handler: h.productStaff})
}

func request(r *http.Request) (Request, error) {
	q := r.URL.Query()
	req := Request{Page: q.Get("page"), EnvVersion: q.Get("env_version")}
	if w := q.Get("width"); w != "" {
		n, err := strconv.Atoi(w)
		if err != nil {
			return req, errs.Field("width", "invalid_query", "width must be a number")
		}
		req.Width = n
	}
	return req, nil
}

func (h *Handlers) productMine(w http.ResponseWriter, r *http.Request) error {
	m, _ := auth.MemberFrom(r.Context())
	return h.serve(w, r, func(req Request, id int64) ([]byte, error) {
		return h.Svc.ProductCode(r.Context(), m.ShopID, id, m.ID, req)
	})
}

func (h *Handlers) productStaff(w http.ResponseWriter, r *http.Request) error {
	return h.serve(w, r, func(req Request, id int64) ([]byte, error) {
		return h.Svc.ProductCode(r.Context(), auth.StaffShop(r.Context()), id, 0, req)
	})
}

func (h *Handlers) promoter(w http.ResponseWriter, r *http.Request) error {
	m, _ := auth.MemberFrom(r.Context())
	req, err := request(r)
	if err != nil {
		return err
	}
	png, err := h.Svc.PromoterCode(r.Context(), m.ShopID, m.ID, req)
	if err != nil {
		return err
	}
	return writePNG(w, png)
}

func (h *Handlers) serve(w http.ResponseWriter, r *http.Request, code func(Request, int64) ([]byte, error)) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	req, err := request(r)
	if err != nil {
		return err
	}
	png, err := code(req, id)
	if err != nil {
		return err
	}
	return writePNG(w, png)
}

func writePNG(w http.ResponseWriter, png []byte) error {
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=86400")
	w.Header().Set("Content-Length", strconv.Itoa(len(png)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(png)
	return err
}
