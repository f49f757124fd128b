package sheets

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves the exports and imports.
type Handlers struct{ Svc *Service }

var (
	langParam = httpx.Param{Name: "lang", Type: "string", Enum: []string{"zh", "en"}, Description: "the header row's language (default zh)"}
	fromParam = httpx.Param{Name: "from", Type: "string", Description: "date YYYY-MM-DD (China time), inclusive"}
	toParam   = httpx.Param{Name: "to", Type: "string", Description: "date YYYY-MM-DD (China time), inclusive"}
)

// importErrors are the codes an XLSX upload may be refused with.
var importErrors = []string{"not_xlsx", "malformed_xlsx", "empty_sheet", "formula_in_cell", "too_many_columns",
	"header_not_first", "invalid_fields"}

// Routes registers the export and import routes. Each export is guarded
// by the permission of the list it exports.
func (h *Handlers) Routes(api *httpx.API) {
	const tag = "admin: spreadsheets"
	// Exports of buyers' personal data (names, phones, addresses) are
	// sensitive: they ask for a step-up.
	personal := map[string]bool{"orders.xlsx": true, "members.xlsx": true}
	exp := func(path string, perm auth.Permission, summary string, query []httpx.Param, errors map[int][]string, handler httpx.Handler) {
		api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/exports/" + path, Tag: tag, Access: httpx.Staff, Perm: perm, StepUp: personal[path],
			Summary: summary + " (XLSX, streamed; phone numbers masked unless the caller is the owner or finance)",
			Query:   append(query, langParam), Produces: MIME, Errors: errors, Handler: longWrite(handler)})
	}
	exp("orders.xlsx", auth.PermOrdersRead, "Orders with the order list's filters, newest first, one row per order",
		[]httpx.Param{{Name: "status", Type: "string", Enum: order.Status("").EnumValues()}, {Name: "order_no", Type: "string"},
			{Name: "phone", Type: "string"}, fromParam, toParam}, nil, h.orders)
	exp("refunds.xlsx", auth.PermOrdersRead, "Refunds by status and request date, newest first",
		[]httpx.Param{{Name: "status", Type: "string", Enum: RefundStatuses}, fromParam, toParam}, nil, h.refunds)
	exp("members.xlsx", auth.PermMembersRead, "Members by registration date, newest first, with what each paid",
		[]httpx.Param{fromParam, toParam}, nil, h.members)
	exp("products.xlsx", auth.PermCatalogRead, "Products with the product list's filters, one row per SKU, in the import's columns",
		[]httpx.Param{{Name: "q", Type: "string", Description: "keywords; every word must match"},
			{Name: "category_id", Type: "integer", Description: "a category; its subcategories are included"},
			{Name: "shelf", Type: "string", Enum: []string{"on", "off"}}}, map[int][]string{400: {"query_too_long"}}, h.products)
	exp("commissions.xlsx", auth.PermPromotionsRead, "The commission ledger: by promoter, status and date, newest first",
		[]httpx.Param{{Name: "promoter_id", Type: "integer"}, {Name: "status", Type: "string", Enum: CommissionStatuses}, fromParam, toParam},
		nil, h.commissions)

	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/imports/products.xlsx", Tag: tag, Access: httpx.Staff, Perm: auth.PermCatalogWrite,
		Summary:  "Import products from XLSX (the CSV import's columns, or the product export's; all or nothing, every bad row named)",
		Consumes: MIME, BodyLimit: MaxUploadBytes + 1, Response: catalog.ImportResult{},
		Errors: map[int][]string{400: append([]string{"category_too_deep", "invalid_category", "category_not_found", "sku_code_taken"}, importErrors...),
			413: {"too_many_rows", "xlsx_too_large"}},
		Handler: h.importProducts})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/imports/shipments.xlsx", Tag: tag, Access: httpx.Staff, Perm: auth.PermOrdersManage,
		Summary:  "Ship paid orders from XLSX (order_no, carrier, tracking_no; optional delivery_type): all rows checked, then all shipped in one transaction, or none",
		Consumes: MIME, BodyLimit: MaxUploadBytes + 1, Response: order.BulkShipResult{},
		Errors: map[int][]string{400: append([]string{"missing_columns"}, importErrors...), 409: {"illegal_transition", "refund_in_progress"},
			413: {"too_many_rows", "xlsx_too_large"}},
		Handler: h.importShipments})
}

// exportWriteTime is how long an export may take to send: longer than the
// server's write timeout, which suits JSON answers.
const exportWriteTime = 10 * time.Minute

// longWrite lets an export's answer take exportWriteTime.
func longWrite(next httpx.Handler) httpx.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(exportWriteTime)) // unsupported by a wrapper: keep the default
		return next(w, r)
	}
}

func staff(r *http.Request) auth.Staff {
	st, _ := auth.StaffFrom(r.Context())
	return st
}

// options reads ?lang= and whether the caller sees phone numbers whole:
// kaidian has no finer rule for personal data yet, so the owner, finance
// and operators do; operations and customer service get them masked.
func options(r *http.Request) (Options, error) {
	o := Options{Lang: r.URL.Query().Get("lang")}
	if o.Lang != "" && o.Lang != "zh" && o.Lang != "en" {
		return o, errs.Field("lang", "invalid_query", "lang must be zh or en")
	}
	switch staff(r).Role {
	case auth.RoleOwner, auth.RoleFinance, auth.RoleOperator:
		o.Unmask = true
	}
	return o, nil
}

// created reads ?from= and ?to= (China dates, both inclusive).
func created(r *http.Request) (Range, error) {
	q := r.URL.Query()
	from, err := chinaDate(q.Get("from"), "from", 0)
	if err != nil {
		return Range{}, err
	}
	to, err := chinaDate(q.Get("to"), "to", 1)
	if err == nil && !from.IsZero() && !to.IsZero() && !from.Before(to) {
		err = errs.Field("to", "invalid_query", "to must not be before from")
	}
	return Range{From: from, To: to}, err
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

// oneOf reads a query value that must be empty or one of values.
func oneOf(r *http.Request, name string, values []string) (string, error) {
	v := r.URL.Query().Get(name)
	if v != "" && !slices.Contains(values, v) {
		return "", errs.Field(name, "invalid_query", name+" must be one of "+strings.Join(values, ", "))
	}
	return v, nil
}

// send answers a finished sheet as a download. Everything that can fail
// on the database has failed before: from here on the answer is the file.
// A failure while it is sent (the client went away, the temporary file
// broke) can no longer become a JSON error: it is logged, and the client
// is left with a truncated file that no spreadsheet opens.
func (h *Handlers) send(w http.ResponseWriter, r *http.Request, sh *Sheet, err error, zh, en string, o Options) error {
	if err != nil {
		return err
	}
	name := zh
	if o.Lang == "en" {
		name = en
	}
	now := h.Svc.now()
	w.Header().Set("Content-Type", MIME)
	w.Header().Set("Content-Disposition", Disposition(dated(name, now), dated(en, now)))
	w.WriteHeader(http.StatusOK)
	if err := sh.Finish(w); err != nil {
		httpx.Logger(r.Context()).Warn("export cut short", "path", r.URL.Path, "error", err)
	}
	return nil
}

func (h *Handlers) orders(w http.ResponseWriter, r *http.Request) error {
	o, err := options(r)
	if err != nil {
		return err
	}
	var f OrderFilter
	st, err := oneOf(r, "status", order.Status("").EnumValues())
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f.Status, f.OrderNo, f.Phone = order.Status(st), strings.TrimSpace(q.Get("order_no")), strings.TrimSpace(q.Get("phone"))
	if f.Created, err = created(r); err != nil {
		return err
	}
	sh, err := h.Svc.Orders(r.Context(), staff(r).ShopID, f, o)
	return h.send(w, r, sh, err, "订单", "orders", o)
}

func (h *Handlers) refunds(w http.ResponseWriter, r *http.Request) error {
	o, err := options(r)
	if err != nil {
		return err
	}
	var f RefundFilter
	if f.Status, err = oneOf(r, "status", RefundStatuses); err != nil {
		return err
	}
	if f.Created, err = created(r); err != nil {
		return err
	}
	sh, err := h.Svc.Refunds(r.Context(), staff(r).ShopID, f, o)
	return h.send(w, r, sh, err, "退款", "refunds", o)
}

func (h *Handlers) members(w http.ResponseWriter, r *http.Request) error {
	o, err := options(r)
	if err != nil {
		return err
	}
	rng, err := created(r)
	if err != nil {
		return err
	}
	sh, err := h.Svc.Members(r.Context(), staff(r).ShopID, rng, o)
	return h.send(w, r, sh, err, "会员", "members", o)
}

func (h *Handlers) products(w http.ResponseWriter, r *http.Request) error {
	o, err := options(r)
	if err != nil {
		return err
	}
	q := catalog.ListQuery{Text: strings.TrimSpace(r.URL.Query().Get("q"))}
	if q.CategoryID, err = httpx.QueryInt(r, "category_id", 0, 0, 1<<62); err != nil {
		return err
	}
	shelf, err := oneOf(r, "shelf", []string{"on", "off"})
	if err != nil {
		return err
	}
	q.OnShelf, q.OffShelf = shelf == "on", shelf == "off"
	sh, err := h.Svc.Products(r.Context(), staff(r).ShopID, q, o)
	return h.send(w, r, sh, err, "商品", "products", o)
}

func (h *Handlers) commissions(w http.ResponseWriter, r *http.Request) error {
	o, err := options(r)
	if err != nil {
		return err
	}
	var f CommissionFilter
	if f.PromoterID, err = httpx.QueryInt(r, "promoter_id", 0, 0, 1<<62); err != nil {
		return err
	}
	if f.Status, err = oneOf(r, "status", CommissionStatuses); err != nil {
		return err
	}
	if f.Created, err = created(r); err != nil {
		return err
	}
	sh, err := h.Svc.Commissions(r.Context(), staff(r).ShopID, f, o)
	return h.send(w, r, sh, err, "佣金", "commissions", o)
}

func (h *Handlers) importProducts(w http.ResponseWriter, r *http.Request) error {
	res, err := h.Svc.ImportProducts(r.Context(), staff(r).ShopID, r.Body)
	return httpx.Respond(w, http.StatusOK, res, err)
}

func (h *Handlers) importShipments(w http.ResponseWriter, r *http.Request) error {
	st := staff(r)
	res, err := h.Svc.ImportShipments(r.Context(), st.ShopID, order.StaffActor(st.AccountID), r.Body)
	return httpx.Respond(w, http.StatusOK, res, err)
}
