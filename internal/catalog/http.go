package catalog

import (
	"net/http"
	"strings"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves the catalog to mini programs and to staff.
type Handlers struct {
	Svc *Service
	// Viewed, when set, is told of every product a logged-in buyer opened
	// (recently viewed); it must be cheap, as it runs on the hot path.
	Viewed func(shopID, memberID, productID int64)
}

type shelfRequest struct {
	OnShelf bool `json:"on_shelf"`
}

var listParams = httpx.PageParams(
	httpx.Param{Name: "q", Type: "string", Description: "keywords (Chinese works without spaces); every word must match"},
	httpx.Param{Name: "category_id", Type: "integer", Description: "a category; its subcategories are included"})

// Routes registers the catalog routes.
func (h *Handlers) Routes(api *httpx.API) {
	const mini = "mini: catalog"
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/categories", Tag: mini, Access: httpx.Shop,
		Summary: "The shop's category tree: every category, roots with their children (one read of the whole tree: not a page, never cut)", Response: []Category{}, Handler: h.categories})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/products", Errors: map[int][]string{400: {"query_too_long"}}, Tag: mini, Access: httpx.Shop,
		Summary: "Products on the shelf: by category, by keyword, newest first", Response: httpx.Page[Summary]{}, Query: listParams, Handler: h.listMini})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/products/{id}", Tag: mini, Access: httpx.Shop,
		Summary: "A product with its specs and SKUs", Response: Product{}, Handler: h.productMini})

	const admin = "admin: catalog"
	read, write := auth.PermCatalogRead, auth.PermCatalogWrite
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/categories", Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "The category tree: every category, roots with their children (one read of the whole tree: not a page, never cut)", Response: []Category{}, Handler: h.categories})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/categories", Errors: map[int][]string{400: {"required"}}, Tag: admin, Access: httpx.Staff, Perm: write,
		Summary: "Add a category", Request: CategoryInput{}, Response: Category{}, Status: http.StatusCreated, Handler: h.createCategory})
	api.Add(httpx.Route{Method: "PATCH", Path: "/admin/api/v1/categories/{id}", Errors: map[int][]string{400: {"category_cycle"}}, Tag: admin, Access: httpx.Staff, Perm: write,
		Summary: "Rename, move or re-sort a category", Request: CategoryInput{}, Response: Category{}, Handler: h.updateCategory})
	api.Add(httpx.Route{Method: "DELETE", Path: "/admin/api/v1/categories/{id}", Errors: map[int][]string{409: {"category_not_empty"}}, Tag: admin, Access: httpx.Staff, Perm: write,
		Summary: "Delete an empty category", Status: http.StatusNoContent, Handler: h.deleteCategory})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/products", Errors: map[int][]string{400: {"query_too_long"}}, Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "Products on and off the shelf", Response: httpx.Page[Summary]{}, Handler: h.listAdmin,
		Query: append([]httpx.Param{{Name: "shelf", Type: "string", Description: "on or off: only products on (off) the shelf"}}, listParams...)})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/products/deleted", Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "Products in the bin, which can be restored, most recently deleted first", Query: httpx.PageParams(),
		Response: httpx.Page[Deleted]{}, Handler: h.listDeleted})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/products", Errors: map[int][]string{400: {"category_not_found", "freight_template_not_found"}}, Tag: admin, Access: httpx.Staff, Perm: write,
		Summary: "Create a product with its SKUs", Request: ProductInput{}, Response: Product{}, Status: http.StatusCreated, Handler: h.create})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/products/{id}", Tag: admin, Access: httpx.Staff, Perm: read,
		Summary: "A product with its SKUs (also off the shelf or deleted)", Response: Product{}, Handler: h.productAdmin})
	api.Add(httpx.Route{Method: "PUT", Path: "/admin/api/v1/products/{id}", Errors: map[int][]string{400: {"category_not_found", "freight_template_not_found"}}, Tag: admin, Access: httpx.Staff, Perm: write,
		Summary: "Replace a product; SKUs with an id are kept, others added, missing ones retired", Request: ProductInput{}, Response: Product{}, Handler: h.replace})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/products/{id}/shelf", Tag: admin, Access: httpx.Staff, Perm: write,
		Summary: "Put a product on or off the shelf", Request: shelfRequest{}, Response: Product{}, Handler: h.shelf})
	api.Add(httpx.Route{Method: "DELETE", Path: "/admin/api/v1/products/{id}", Tag: admin, Access: httpx.Staff, Perm: write,
		Summary: "Move a product to the bin", Status: http.StatusNoContent, Handler: h.delete})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/products/{id}/restore", Errors: map[int][]string{404: {"product_not_deleted"}}, Tag: admin, Access: httpx.Staff, Perm: write,
		Summary: "Bring a product back from the bin (off the shelf)", Response: Product{}, Handler: h.restore})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/products/import", Errors: map[int][]string{400: {"empty_csv", "malformed_csv", "invalid_fields"}}, Tag: admin, Access: httpx.Staff, Perm: write,
		Summary: "Import products from CSV (text/csv body; all or nothing)", Response: ImportResult{}, BodyLimit: MaxImportBytes + 1,
		Handler: h.importCSV})
}

func (h *Handlers) categories(w http.ResponseWriter, r *http.Request) error {
	shopID := auth.ShopFrom(r.Context())
	if st, ok := auth.StaffFrom(r.Context()); ok {
		shopID = st.ShopID
	}
	tree, err := h.Svc.CategoryTree(r.Context(), shopID)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, tree)
	return nil
}

func listQuery(r *http.Request, staff bool) (ListQuery, error) {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return ListQuery{}, err
	}
	cat, err := httpx.QueryInt(r, "category_id", 0, 0, 1<<62)
	if err != nil {
		return ListQuery{}, err
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	lq := ListQuery{Text: q, CategoryID: cat, After: after, Limit: limit, Staff: staff}
	if staff {
		switch r.URL.Query().Get("shelf") {
		case "":
		case "on":
			lq.OnShelf = true
		case "off":
			lq.OffShelf = true
		default:
			return ListQuery{}, errs.Field("shelf", "invalid_query", "shelf must be on or off")
		}
	}
	return lq, nil
}

func (h *Handlers) list(w http.ResponseWriter, r *http.Request, shopID int64, staff bool) error {
	q, err := listQuery(r, staff)
	if err != nil {
		return err
	}
	body, err := h.Svc.ListJSON(r.Context(), shopID, q)
	if err != nil {
		return err
	}
	httpx.WriteEncoded(w, http.StatusOK, body)
	return nil
}

func (h *Handlers) listMini(w http.ResponseWriter, r *http.Request) error {
	return h.list(w, r, auth.ShopFrom(r.Context()), false)
}

func (h *Handlers) listAdmin(w http.ResponseWriter, r *http.Request) error {
	return h.list(w, r, auth.StaffShop(r.Context()), true)
}

func (h *Handlers) listDeleted(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQueryKeys(r, 2)
	if err != nil {
		return err
	}
	list, err := h.Svc.ListDeleted(r.Context(), auth.StaffShop(r.Context()), after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOfKeys(list, limit, Deleted.DeletedKeys), err)
}

func (h *Handlers) product(w http.ResponseWriter, r *http.Request, shopID int64, staff bool) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	p, err := h.Svc.Product(r.Context(), shopID, id, staff)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, p)
	return nil
}

// productMini answers buyers from the detail cache (staff read the database).
func (h *Handlers) productMini(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	shopID := auth.ShopFrom(r.Context())
	body, err := h.Svc.ProductJSON(r.Context(), shopID, id)
	if err != nil {
		return err
	}
	if m, ok := auth.MemberFrom(r.Context()); ok && h.Viewed != nil {
		h.Viewed(shopID, m.ID, id)
	}
	httpx.WriteEncoded(w, http.StatusOK, body)
	return nil
}

func (h *Handlers) productAdmin(w http.ResponseWriter, r *http.Request) error {
	return h.product(w, r, auth.StaffShop(r.Context()), true)
}

func isOperator(r *http.Request) bool {
	st, _ := auth.StaffFrom(r.Context())
	return st.Role == auth.RoleOperator
}

func (h *Handlers) createCategory(w http.ResponseWriter, r *http.Request) error {
	var in CategoryInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	c, err := h.Svc.CreateCategory(r.Context(), auth.StaffShop(r.Context()), in, isOperator(r))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, c)
	return nil
}

func (h *Handlers) updateCategory(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in CategoryInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	c, err := h.Svc.UpdateCategory(r.Context(), auth.StaffShop(r.Context()), id, in, isOperator(r))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, c)
	return nil
}

func (h *Handlers) deleteCategory(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.Svc.DeleteCategory(r.Context(), auth.StaffShop(r.Context()), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) create(w http.ResponseWriter, r *http.Request) error {
	var in ProductInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	p, err := h.Svc.CreateProduct(r.Context(), auth.StaffShop(r.Context()), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, p)
	return nil
}

func (h *Handlers) replace(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in ProductInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	p, err := h.Svc.ReplaceProduct(r.Context(), auth.StaffShop(r.Context()), id, in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, p)
	return nil
}

func (h *Handlers) shelf(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in shelfRequest
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	p, err := h.Svc.SetShelf(r.Context(), auth.StaffShop(r.Context()), id, in.OnShelf)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, p)
	return nil
}

func (h *Handlers) delete(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.Svc.DeleteProduct(r.Context(), auth.StaffShop(r.Context()), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) restore(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	p, err := h.Svc.RestoreProduct(r.Context(), auth.StaffShop(r.Context()), id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, p)
	return nil
}

func (h *Handlers) importCSV(w http.ResponseWriter, r *http.Request) error {
	res, err := h.Svc.ImportCSV(r.Context(), auth.StaffShop(r.Context()), r.Body)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}
