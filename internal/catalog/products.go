package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/shop"
)

var errProductNotFound = errs.E(errs.NotFound, "product_not_found", "no such product")

// Shops gives the catalog the shop's subject type for WeChat's gates.
type Shops interface {
	Get(ctx context.Context, id int64) (shop.Shop, error)
}

// checkPublish applies WeChat's gates to putting a product of category on
// the shelf.
// sh is loaded before the transaction starts, so a transaction never waits
// for a second connection.
func checkPublish(ctx context.Context, q db.Querier, sh shop.Shop, categoryID int64) error {
	needsAuth, err := brandGated(ctx, q, sh.ID, categoryID)
	if err != nil {
		return err
	}
	return sh.CanPublishInCategory(needsAuth)
}

// brandGated reports whether category or any category above it needs a
// brand authorization (a subcategory cannot escape its parent's gate).
func brandGated(ctx context.Context, q db.Querier, shopID, categoryID int64) (bool, error) {
	for id, level := categoryID, 0; id != 0 && level <= MaxCategoryDepth; level++ {
		var needsAuth bool
		var parent int64
		err := q.QueryRow(ctx, `SELECT needs_brand_auth, COALESCE(parent_id, 0) FROM categories WHERE id = ? AND shop_id = ?`,
			id, shopID).Scan(&needsAuth, &parent)
		if db.IsNoRows(err) {
			return false, errs.Field("category_id", "category_not_found", "must be a category of this shop")
		}
		if err != nil || needsAuth {
			return needsAuth, errs.Wrap("check category", err)
		}
		id = parent
	}
	return false, nil
}

// CreateProduct stores a new product with its SKUs.
func (s *Service) CreateProduct(ctx context.Context, shopID int64, in ProductInput) (Product, error) {
	if err := in.validate(); err != nil {
		return Product{}, err
	}
	if err := s.checkText(shopID, &in); err != nil {
		return Product{}, err
	}
	sh, err := s.shops.Get(ctx, shopID)
	if err != nil {
		return Product{}, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := checkCategory(ctx, tx, sh, in); err != nil {
			return err
		}
		var err error
		id, err = insertProduct(ctx, tx, shopID, in)
		return err
	})
	if err != nil {
		return Product{}, skuCodeError(err)
	}
	if err := s.held(ctx, shopID, id, in); err != nil {
		return Product{}, err
	}
	return s.afterWrite(ctx, shopID, id)
}

// checkCategory checks the category exists in the shop and, when the
// product goes on the shelf, the publishing gates.
func checkCategory(ctx context.Context, tx *db.Tx, sh shop.Shop, in ProductInput) error {
	if err := checkFreightTemplate(ctx, tx, sh.ID, in.FreightTemplateID); err != nil {
		return err
	}
	if in.OnShelf {
		return checkPublish(ctx, tx, sh, in.CategoryID)
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM categories WHERE id = ? AND shop_id = ?`, in.CategoryID, sh.ID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errs.Field("category_id", "category_not_found", "must be a category of this shop")
	}
	return nil
}

// checkFreightTemplate checks that the product's freight template (if any)
// is one of the shop's. The freight package owns the table; a delete there
// counts the products that use a template under the template's row lock,
// and the foreign key catches what slips between.
func checkFreightTemplate(ctx context.Context, tx *db.Tx, shopID, id int64) error {
	if id == 0 {
		return nil
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM freight_templates WHERE id = ? AND shop_id = ?`, id, shopID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errs.Field("freight_template_id", "freight_template_not_found", "must be a freight template of this shop")
	}
	return nil
}

func insertProduct(ctx context.Context, tx *db.Tx, shopID int64, in ProductInput) (int64, error) {
	lo, hi := priceRange(in.SKUs)
	now := db.Now()
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO spus (shop_id, category_id, title, subtitle, description, images, specs,
		on_shelf, sort, kind, price_min, price_max, review_hold, freight_template_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		shopID, in.CategoryID, in.Title, in.Subtitle, in.Description, jsonText(in.Images), jsonText(in.Specs),
		in.OnShelf, in.Sort, in.Kind, lo, hi, in.reviewHold, nullID(in.FreightTemplateID), now, now).Scan(&id)
	if err != nil {
		return 0, err
	}
	for _, sku := range in.SKUs {
		if err := insertSKU(ctx, tx, shopID, id, sku, now); err != nil {
			return 0, err
		}
	}
	return id, nil
}

func insertSKU(ctx context.Context, tx *db.Tx, shopID, spuID int64, sku SKUInput, now int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO skus (shop_id, spu_id, spec_values, price, stock, code, weight_grams, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, shopID, spuID, jsonText(sku.SpecValues), sku.Price, sku.Stock, sku.Code, sku.WeightGrams, now, now)
	return err
}

func skuCodeError(err error) error {
	if db.IsUniqueViolation(err) {
		return errs.Field("skus", "sku_code_taken", "another SKU of this shop already uses one of these codes")
	}
	return errs.Wrap("save product", err)
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	if string(b) == "null" {
		return "[]"
	}
	return string(b)
}

// afterWrite refreshes the read model from the database and returns the
// product as stored.
func (s *Service) afterWrite(ctx context.Context, shopID, id int64) (Product, error) {
	p, err := s.Product(ctx, shopID, id, true)
	if err != nil {
		return Product{}, err
	}
	s.view.put(shopID, p)
	return p, nil
}

// Product returns product id of shopID with its SKUs. Unless staff is
// true, only products on the shelf are found.
func (s *Service) Product(ctx context.Context, shopID, id int64, staff bool) (Product, error) {
	p, err := s.loadProduct(ctx, shopID, id)
	if err != nil {
		return Product{}, err
	}
	if !staff && (!p.OnShelf || p.Deleted) {
		return Product{}, errProductNotFound
	}
	return p, nil
}

// loadProduct reads a product and its live SKUs in one query (one round
// trip on PostgreSQL): one row per SKU, the product's columns repeated.
func (s *Service) loadProduct(ctx context.Context, shopID, id int64) (Product, error) {
	rows, err := s.db.Query(ctx, `SELECT p.id, p.category_id, p.title, p.subtitle, p.description, p.images, p.specs,
		p.on_shelf, p.sort, p.kind, p.price_min, p.price_max, p.deleted_at, p.created_at, p.updated_at,
		COALESCE(p.freight_template_id, 0), k.id, k.spec_values, k.price, k.stock, k.code, k.weight_grams
		FROM spus p LEFT JOIN skus k ON k.spu_id = p.id AND k.deleted_at IS NULL
		WHERE p.id = ? AND p.shop_id = ? ORDER BY k.id`, id, shopID)
	if err != nil {
		return Product{}, errs.Wrap("get product", err)
	}
	defer rows.Close()
	var p Product
	p.SKUs = []SKU{}
	found := false
	for rows.Next() {
		sku, err := scanProductRow(rows, &p, !found)
		if err != nil {
			return Product{}, errs.Wrap("get product", err)
		}
		found = true
		if sku != nil {
			p.SKUs = append(p.SKUs, *sku)
		}
	}
	if err := rows.Err(); err != nil {
		return Product{}, errs.Wrap("get product", err)
	}
	if !found {
		return Product{}, errProductNotFound
	}
	return p, nil
}

// scanProductRow scans one row of loadProduct; the product's columns are
// decoded only on the first row.
func scanProductRow(rows *sql.Rows, p *Product, first bool) (*SKU, error) {
	var images, specs string
	var deleted, skuID sql.NullInt64
	var created, updated int64
	var values, code sql.NullString
	var price, stock, weight sql.NullInt64
	err := rows.Scan(&p.ID, &p.CategoryID, &p.Title, &p.Subtitle, &p.Description, &images, &specs, &p.OnShelf, &p.Sort,
		&p.Kind, &p.PriceMin, &p.PriceMax, &deleted, &created, &updated, &p.FreightTemplateID, &skuID, &values, &price, &stock, &code, &weight)
	if err != nil {
		return nil, err
	}
	if first {
		p.Deleted = deleted.Valid
		p.CreatedAt, p.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
		if err := json.Unmarshal([]byte(images), &p.Images); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(specs), &p.Specs); err != nil {
			return nil, err
		}
	}
	if !skuID.Valid {
		return nil, nil
	}
	sku := &SKU{ID: skuID.Int64, Price: price.Int64, Stock: stock.Int64, Code: code.String, WeightGrams: weight.Int64}
	return sku, json.Unmarshal([]byte(values.String), &sku.SpecValues)
}

// ReplaceProduct overwrites product id with in. SKUs with an id are kept
// and updated, new ones added, missing ones retired. A stock change is a
// compare-and-set against the stock read in the same transaction, so it
// never overwrites a concurrent sale: that gives 409 stock_changed.
func (s *Service) ReplaceProduct(ctx context.Context, shopID, id int64, in ProductInput) (Product, error) {
	if err := in.validate(); err != nil {
		return Product{}, err
	}
	if err := s.checkText(shopID, &in); err != nil {
		return Product{}, err
	}
	sh, err := s.shops.Get(ctx, shopID)
	if err != nil {
		return Product{}, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := checkCategory(ctx, tx, sh, in); err != nil {
			return err
		}
		if err := updateSPU(ctx, tx, shopID, id, in); err != nil {
			return err
		}
		return replaceSKUs(ctx, tx, shopID, id, in.SKUs)
	})
	if err != nil {
		return Product{}, skuCodeError(err)
	}
	if err := s.held(ctx, shopID, id, in); err != nil {
		return Product{}, err
	}
	return s.afterWrite(ctx, shopID, id)
}

func updateSPU(ctx context.Context, tx *db.Tx, shopID, id int64, in ProductInput) error {
	lo, hi := priceRange(in.SKUs)
	err := db.ExpectOne(tx.Exec(ctx, `UPDATE spus SET category_id = ?, title = ?, subtitle = ?, description = ?,
		images = ?, specs = ?, on_shelf = ?, sort = ?, kind = ?, price_min = ?, price_max = ?, review_hold = ?,
		freight_template_id = ?, updated_at = ?
		WHERE id = ? AND shop_id = ? AND deleted_at IS NULL`,
		in.CategoryID, in.Title, in.Subtitle, in.Description, jsonText(in.Images), jsonText(in.Specs),
		in.OnShelf, in.Sort, in.Kind, lo, hi, in.reviewHold, nullID(in.FreightTemplateID), db.Now(), id, shopID))
	if db.IsNoRows(err) {
		return errProductNotFound
	}
	return err
}

func replaceSKUs(ctx context.Context, tx *db.Tx, shopID, spuID int64, skus []SKUInput) error {
	current, err := currentStock(ctx, tx, shopID, spuID)
	if err != nil {
		return err
	}
	now := db.Now()
	keep := map[int64]bool{}
	// Retire first so a kept code can move between SKUs.
	for _, sku := range skus {
		keep[sku.ID] = true
	}
	for skuID := range current {
		if !keep[skuID] {
			if _, err := tx.Exec(ctx, `UPDATE skus SET deleted_at = ?, updated_at = ? WHERE id = ? AND shop_id = ?`, now, now, skuID, shopID); err != nil {
				return err
			}
		}
	}
	for _, sku := range skus {
		if err := saveSKU(ctx, tx, shopID, spuID, sku, current, now); err != nil {
			return err
		}
	}
	return nil
}

func currentStock(ctx context.Context, tx *db.Tx, shopID, spuID int64) (map[int64]int64, error) {
	rows, err := tx.Query(ctx, `SELECT id, stock FROM skus WHERE spu_id = ? AND shop_id = ? AND deleted_at IS NULL`, spuID, shopID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var id, stock int64
		if err := rows.Scan(&id, &stock); err != nil {
			return nil, err
		}
		out[id] = stock
	}
	return out, rows.Err()
}

func saveSKU(ctx context.Context, tx *db.Tx, shopID, spuID int64, sku SKUInput, current map[int64]int64, now int64) error {
	if sku.ID == 0 {
		return insertSKU(ctx, tx, shopID, spuID, sku, now)
	}
	stock, ok := current[sku.ID]
	if !ok {
		return errs.Field("skus", "sku_not_found", "a SKU id does not belong to this product")
	}
	expected, newStock := skuStockChange(sku, stock)
	err := db.ExpectOne(tx.Exec(ctx, `UPDATE skus SET spec_values = ?, price = ?, stock = ?, code = ?, weight_grams = ?, updated_at = ?
		WHERE id = ? AND shop_id = ? AND stock = ?`, jsonText(sku.SpecValues), sku.Price, newStock, sku.Code, sku.WeightGrams, now, sku.ID, shopID, expected))
	if db.IsNoRows(err) {
		return errs.E(errs.Conflict, "stock_changed", "stock changed (a sale?) since the editor loaded it; reload and try again")
	}
	return err
}

// skuStockChange decides the compare-and-set of an existing SKU's stock.
// With stock_seen (the stock the editor loaded): an unchanged stock is left
// alone, so sales made meanwhile are kept; a changed one must still be
// stock_seen in the database. Without it, stock is set outright.
func skuStockChange(sku SKUInput, current int64) (expected, next int64) {
	switch {
	case sku.StockSeen == nil:
		return current, sku.Stock
	case sku.Stock == *sku.StockSeen:
		return current, current
	default:
		return *sku.StockSeen, sku.Stock
	}
}

// SetShelf puts product id on or off the shelf.
func (s *Service) SetShelf(ctx context.Context, shopID, id int64, on bool) (Product, error) {
	sh, err := s.shops.Get(ctx, shopID)
	if err != nil {
		return Product{}, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var categoryID int64
		var hold bool
		err := tx.QueryRow(ctx, `SELECT category_id, review_hold FROM spus WHERE id = ? AND shop_id = ? AND deleted_at IS NULL`, id, shopID).Scan(&categoryID, &hold)
		if db.IsNoRows(err) {
			return errProductNotFound
		}
		if err != nil {
			return err
		}
		if on && hold {
			return errInReview
		}
		if on {
			if err := checkPublish(ctx, tx, sh, categoryID); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE spus SET on_shelf = ?, updated_at = ? WHERE id = ? AND shop_id = ?`, on, db.Now(), id, shopID)
		return err
	})
	if err != nil {
		return Product{}, errs.Wrap("set shelf", err)
	}
	return s.afterWrite(ctx, shopID, id)
}

// DeleteProduct moves product id to the bin (off the shelf); RestoreProduct
// brings it back, off the shelf.
func (s *Service) DeleteProduct(ctx context.Context, shopID, id int64) error {
	now := db.Now()
	err := db.ExpectOne(s.db.Exec(ctx, `UPDATE spus SET deleted_at = ?, on_shelf = FALSE, updated_at = ?
		WHERE id = ? AND shop_id = ? AND deleted_at IS NULL`, now, now, id, shopID))
	if db.IsNoRows(err) {
		return errProductNotFound
	}
	if err != nil {
		return errs.Wrap("delete product", err)
	}
	_, err = s.afterWrite(ctx, shopID, id)
	return err
}

// RestoreProduct takes product id out of the bin.
func (s *Service) RestoreProduct(ctx context.Context, shopID, id int64) (Product, error) {
	err := db.ExpectOne(s.db.Exec(ctx, `UPDATE spus SET deleted_at = NULL, updated_at = ?
		WHERE id = ? AND shop_id = ? AND deleted_at IS NOT NULL`, db.Now(), id, shopID))
	if db.IsNoRows(err) {
		return Product{}, errs.E(errs.NotFound, "product_not_deleted", "no deleted product with this id")
	}
	if err != nil {
		return Product{}, errs.Wrap("restore product", err)
	}
	return s.afterWrite(ctx, shopID, id)
}

// Deleted is a product in the bin and when it was put there.
type Deleted struct {
	Summary
	DeletedAt time.Time `json:"deleted_at"`
}

// DeletedKeys are a bin item's sort keys, its page cursor: deleted_at, id.
func (d Deleted) DeletedKeys() []int64 { return []int64{d.DeletedAt.UnixMilli(), d.ID} }

// ListDeleted returns shopID's products in the bin, most recently deleted
// first, a page at a time: after the position after (DeletedKeys of the
// previous page's last item; nil = from the start), up to limit+1 rows so
// httpx.PageOfKeys knows whether there is a next page.
func (s *Service) ListDeleted(ctx context.Context, shopID int64, after []int64, limit int) ([]Deleted, error) {
	at, id := int64(1<<62), int64(1<<62)
	if len(after) == 2 {
		at, id = after[0], after[1]
	}
	rows, err := s.db.Query(ctx, `SELECT id, category_id, title, subtitle, images, price_min, price_max, deleted_at
		FROM spus WHERE shop_id = ? AND deleted_at IS NOT NULL AND (deleted_at < ? OR (deleted_at = ? AND id < ?))
		ORDER BY deleted_at DESC, id DESC LIMIT ?`, shopID, at, at, id, limit+1)
	if err != nil {
		return nil, errs.Wrap("list deleted", err)
	}
	defer rows.Close()
	out := []Deleted{}
	for rows.Next() {
		var d Deleted
		var images string
		var deletedAt int64
		if err := rows.Scan(&d.ID, &d.CategoryID, &d.Title, &d.Subtitle, &images, &d.PriceMin, &d.PriceMax, &deletedAt); err != nil {
			return nil, errs.Wrap("list deleted", err)
		}
		d.Image = firstImage(images)
		d.DeletedAt = time.UnixMilli(deletedAt).UTC()
		out = append(out, d)
	}
	return out, errs.Wrap("list deleted", rows.Err())
}

// OnShelf returns nil when product id of shopID is on the shelf, else
// product_not_found: what buyers may share.
func (s *Service) OnShelf(ctx context.Context, shopID, id int64) error {
	var n int
	err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM spus WHERE id = ? AND shop_id = ? AND on_shelf = TRUE AND deleted_at IS NULL`,
		id, shopID).Scan(&n)
	if err != nil {
		return errs.Wrap("product", err)
	}
	if n == 0 {
		return errProductNotFound
	}
	return nil
}
