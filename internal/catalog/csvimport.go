package catalog

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/shop"
)

// CSV import limits.
const (
	MaxImportBytes = 16 << 20
	MaxImportRows  = 50_000
)

// ImportResult reports what an import created.
type ImportResult struct {
	Products   int `json:"products"`
	SKUs       int `json:"skus"`
	Categories int `json:"categories" doc:"categories created because a path named them"`
}

// importProduct is one product gathered from consecutive or scattered rows
// that share a product_key.
type importProduct struct {
	line     int
	category string
	in       ProductInput
}

var requiredColumns = []string{"product_key", "category", "title", "price", "stock"}

// ImportCSV creates products from CSV: one row per SKU, rows with the same
// product_key form one product. Columns: product_key, category (a path like
// 女装/连衣裙, created when missing), title, price (yuan, e.g. 99.90), stock,
// and optionally subtitle, description, images (separated by |), spec
// (颜色:红;尺码:M), sku_code, on_shelf (1/0), sort. UTF-8 or GB18030 (as
// Excel saves it). All or nothing: any error imports nothing and every error
// is reported with its line.
func (s *Service) ImportCSV(ctx context.Context, shopID int64, r io.Reader) (ImportResult, error) {
	header, rows, err := parseCSV(r)
	if err != nil {
		return ImportResult{}, err
	}
	return s.ImportRecords(ctx, shopID, header, rows)
}

// Record is one row of an import file below its header, with the row's
// number in the file (the header is row 1), so errors name the row a
// person sees.
type Record struct {
	Line  int
	Cells []string
}

// ImportRecords creates products from rows already read from a file (CSV,
// or XLSX by the sheets package): the columns and rules of ImportCSV, all
// or nothing, every bad row reported with its number.
func (s *Service) ImportRecords(ctx context.Context, shopID int64, header []string, rows []Record) (ImportResult, error) {
	if len(rows) == 0 {
		return ImportResult{}, errs.E(errs.Invalid, "empty_csv", "the file needs a header row and at least one product row")
	}
	if len(rows) > MaxImportRows {
		return ImportResult{}, errs.E(errs.TooLarge, "too_many_rows", "at most 50,000 rows per import")
	}
	products, err := groupRows(header, rows)
	if err != nil {
		return ImportResult{}, err
	}
	if err := s.checkImport(shopID, products); err != nil {
		return ImportResult{}, err
	}
	sh, err := s.shops.Get(ctx, shopID)
	if err != nil {
		return ImportResult{}, err
	}
	var res ImportResult
	var ids []int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		res, ids, err = s.importProducts(ctx, tx, sh, products)
		return err
	})
	if err != nil {
		return ImportResult{}, skuCodeError(err)
	}
	for i, p := range products {
		if err := s.held(ctx, shopID, ids[i], p.in); err != nil {
			return res, err
		}
	}
	return res, s.Sync(ctx)
}

func (s *Service) importProducts(ctx context.Context, tx *db.Tx, sh shop.Shop, products []*importProduct) (ImportResult, []int64, error) {
	var res ImportResult
	ids := make([]int64, 0, len(products))
	paths := map[string]int64{}
	for _, p := range products {
		id, created, err := s.ensureCategoryPath(ctx, tx, sh.ID, p.category, paths)
		if err != nil {
			return res, nil, lineError(p.line, err)
		}
		res.Categories += created
		p.in.CategoryID = id
		if err := checkCategory(ctx, tx, sh, p.in); err != nil {
			return res, nil, lineError(p.line, err)
		}
		productID, err := insertProduct(ctx, tx, sh.ID, p.in)
		if err != nil {
			return res, nil, err
		}
		ids = append(ids, productID)
		res.Products++
		res.SKUs += len(p.in.SKUs)
	}
	return res, ids, nil
}

// ensureCategoryPath finds or creates every category of a path like a/b/c.
func (s *Service) ensureCategoryPath(ctx context.Context, tx *db.Tx, shopID int64, path string, known map[string]int64) (int64, int, error) {
	var parent int64
	created := 0
	names := strings.Split(path, "/")
	if len(names) > MaxCategoryDepth {
		return 0, 0, errs.Field("category", "category_too_deep", "categories nest at most 3 levels")
	}
	for i := range names {
		key := strings.Join(names[:i+1], "/")
		if id, ok := known[key]; ok {
			parent = id
			continue
		}
		id, made, err := findOrCreateCategory(ctx, tx, shopID, parent, strings.TrimSpace(names[i]))
		if err != nil {
			return 0, 0, err
		}
		known[key], parent = id, id
		if made {
			created++
		}
	}
	s.view.forgetCategories(shopID)
	return parent, created, nil
}

func findOrCreateCategory(ctx context.Context, tx *db.Tx, shopID, parent int64, name string) (int64, bool, error) {
	if runes(name) < 1 || runes(name) > 30 {
		return 0, false, errs.Field("category", "invalid_category", "each category name must be 1 to 30 characters")
	}
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM categories WHERE shop_id = ? AND COALESCE(parent_id, 0) = ? AND name = ?
		ORDER BY id LIMIT 1`, shopID, parent, name).Scan(&id)
	if err == nil || !db.IsNoRows(err) {
		return id, false, err
	}
	now := db.Now()
	err = tx.QueryRow(ctx, `INSERT INTO categories (shop_id, parent_id, name, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, shopID, nullID(parent), name, now, now).Scan(&id)
	return id, true, err
}

func lineError(line int, err error) error {
	e := errs.As(err)
	if e.Kind == errs.Internal {
		return err
	}
	key := fmt.Sprintf("line %d", line)
	msg := e.Message
	for f, m := range e.Fields {
		msg = f + ": " + m
		break
	}
	return &errs.Error{Kind: e.Kind, Code: e.Code, Message: key + ": " + msg, Fields: map[string]string{key: msg}}
}

// parseCSV reads the whole file: its header and its rows.
func parseCSV(r io.Reader) ([]string, []Record, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, nil, errs.Wrap("read csv", err)
	}
	if len(raw) > MaxImportBytes {
		return nil, nil, errs.E(errs.TooLarge, "body_too_large", "the CSV is over 16 MiB; split it")
	}
	cr := csv.NewReader(bytes.NewReader(toUTF8(raw)))
	cr.FieldsPerRecord = -1
	records, err := cr.ReadAll()
	if err != nil {
		return nil, nil, errs.E(errs.Invalid, "malformed_csv", "the CSV cannot be read: "+err.Error())
	}
	if len(records) < 2 {
		return nil, nil, errs.E(errs.Invalid, "empty_csv", "the CSV needs a header row and at least one product row")
	}
	if len(records) > MaxImportRows+1 {
		return nil, nil, errs.E(errs.TooLarge, "too_many_rows", "at most 50,000 rows per import")
	}
	rows := make([]Record, len(records)-1)
	for i, rec := range records[1:] {
		rows[i] = Record{Line: i + 2, Cells: rec}
	}
	return records[0], rows, nil
}

// toUTF8 strips a UTF-8 BOM, and decodes GB18030 when the bytes are not UTF-8.
func toUTF8(b []byte) []byte {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if utf8.Valid(b) {
		return b
	}
	if out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b); err == nil {
		return out
	}
	return b
}

func groupRows(header []string, records []Record) ([]*importProduct, error) {
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	var v errs.Validator
	for _, c := range requiredColumns {
		_, ok := col[c]
		v.Check(ok, "header", "missing column "+c)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	byKey := map[string]*importProduct{}
	var order []*importProduct
	for _, r := range records {
		line, rec := r.Line, r.Cells
		get := func(name string) string {
			if j, ok := col[name]; ok && j < len(rec) {
				return strings.TrimSpace(rec[j])
			}
			return ""
		}
		key := get("product_key")
		p := byKey[key]
		if p == nil {
			p = newImportProduct(line, get)
			byKey[key] = p
			order = append(order, p)
		}
		addImportSKU(&v, line, p, get)
	}
	for _, p := range order {
		if err := p.in.validate(); err != nil {
			for f, m := range errs.As(err).Fields {
				v.Check(false, fmt.Sprintf("line %d", p.line), f+": "+m)
			}
		}
	}
	return order, v.Err()
}

func newImportProduct(line int, get func(string) string) *importProduct {
	p := &importProduct{line: line, category: get("category")}
	p.in.Title, p.in.Subtitle, p.in.Description = get("title"), get("subtitle"), get("description")
	p.in.Images = splitNonEmpty(get("images"), "|")
	p.in.OnShelf = get("on_shelf") == "1" || strings.EqualFold(get("on_shelf"), "true")
	p.in.Sort, _ = strconv.ParseInt(get("sort"), 10, 64)
	p.in.Kind = Kind(get("kind"))
	p.in.CategoryID = 1 // resolved from the path at import; keeps validate quiet
	return p
}

func addImportSKU(v *errs.Validator, line int, p *importProduct, get func(string) string) {
	field := fmt.Sprintf("line %d", line)
	price, err := ParseYuan(get("price"))
	v.Check(err == nil, field, "price must be yuan with at most 2 decimals, e.g. 99.90")
	stock, err := strconv.ParseInt(get("stock"), 10, 64)
	v.Check(err == nil && stock >= 0, field, "stock must be a whole number, 0 or more")
	values, ok := p.addSpec(get("spec"))
	v.Check(ok, field, "spec must look like 颜色:红;尺码:M with the same names, in the same order, on every row of a product")
	p.in.SKUs = append(p.in.SKUs, SKUInput{SpecValues: values, Price: price, Stock: stock, Code: get("sku_code")})
}

// addSpec parses "颜色:红;尺码:M", adds new values to the product's
// dimensions and returns this SKU's values.
func (p *importProduct) addSpec(spec string) ([]string, bool) {
	parts := splitNonEmpty(spec, ";")
	if len(p.in.SKUs) > 0 && len(parts) != len(p.in.Specs) {
		return nil, false
	}
	values := make([]string, 0, len(parts))
	for i, part := range parts {
		name, value, ok := strings.Cut(part, ":")
		if !ok {
			name, value, ok = strings.Cut(part, "：")
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || value == "" {
			return nil, false
		}
		if i == len(p.in.Specs) {
			p.in.Specs = append(p.in.Specs, SpecDim{Name: name})
		}
		if p.in.Specs[i].Name != name {
			return nil, false
		}
		if !contains(p.in.Specs[i].Values, value) {
			p.in.Specs[i].Values = append(p.in.Specs[i].Values, value)
		}
		values = append(values, value)
	}
	return values, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func splitNonEmpty(s, sep string) []string {
	var out []string
	for _, part := range strings.Split(s, sep) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// ParseYuan turns a yuan amount such as "99", "99.9" or "99.90" into fen,
// exactly (no floating point).
func ParseYuan(s string) (int64, error) {
	whole, frac, _ := strings.Cut(strings.TrimSpace(s), ".")
	if whole == "" || len(frac) > 2 || strings.HasPrefix(whole, "-") || strings.HasPrefix(whole, "+") {
		return 0, fmt.Errorf("bad amount %q", s)
	}
	yuan, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || yuan > MaxPriceFen/100 {
		return 0, fmt.Errorf("bad amount %q", s)
	}
	frac = (frac + "00")[:2]
	fen, err := strconv.ParseInt(frac, 10, 64)
	if err != nil || frac[0] == '-' || frac[0] == '+' {
		return 0, fmt.Errorf("bad amount %q", s)
	}
	return yuan*100 + fen, nil
}
