package order

import (
	"context"
	"encoding/json"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// MaxCartLines bounds a cart.
const MaxCartLines = 100

// CartLine is a SKU in a buyer's cart, priced now.
type CartLine struct {
	ID         int64    `json:"id"`
	SKUID      int64    `json:"sku_id"`
	SPUID      int64    `json:"spu_id"`
	Title      string   `json:"title"`
	SpecValues []string `json:"spec_values"`
	Image      string   `json:"image"`
	UnitPrice  int64    `json:"unit_price" doc:"fen: the price checkout charges now (a running time-limited price, else the SKU's)"`
	ListPrice  int64    `json:"list_price" doc:"fen: the SKU's own price"`
	Quantity   int64    `json:"quantity"`
	Selected   bool     `json:"selected"`
	Available  bool     `json:"available" doc:"false when the product left the shelf or the SKU was retired"`
	Stock      int64    `json:"stock"`
}

// Cart is a buyer's cart with the total of its selected, available lines.
type Cart struct {
	Lines         []CartLine `json:"lines"`
	SelectedTotal int64      `json:"selected_total" doc:"fen: the selected, available lines at the prices checkout charges, before coupon and shipping"`
}

// CartUpdate changes a cart line; nil fields stay.
type CartUpdate struct {
	Quantity *int64 `json:"quantity,omitempty"`
	Selected *bool  `json:"selected,omitempty"`
}

// Cart returns the buyer's cart.
func (s *Service) Cart(ctx context.Context, shopID, memberID int64) (Cart, error) {
	rows, err := s.db.Query(ctx, `SELECT c.id, c.sku_id, k.spu_id, p.title, k.spec_values, p.images, k.price, c.quantity,
		c.selected, k.deleted_at IS NULL AND p.deleted_at IS NULL AND p.on_shelf = TRUE, k.stock
		FROM cart_items c JOIN skus k ON k.id = c.sku_id JOIN spus p ON p.id = k.spu_id
		WHERE c.shop_id = ? AND c.member_id = ? ORDER BY c.id DESC`, shopID, memberID)
	if err != nil {
		return Cart{}, errs.Wrap("cart", err)
	}
	defer rows.Close()
	cart := Cart{Lines: []CartLine{}}
	for rows.Next() {
		var l CartLine
		var specs, images string
		if err := rows.Scan(&l.ID, &l.SKUID, &l.SPUID, &l.Title, &specs, &images, &l.UnitPrice, &l.Quantity,
			&l.Selected, &l.Available, &l.Stock); err != nil {
			return Cart{}, errs.Wrap("cart", err)
		}
		_ = json.Unmarshal([]byte(specs), &l.SpecValues)
		var imgs []string
		if json.Unmarshal([]byte(images), &imgs) == nil && len(imgs) > 0 {
			l.Image = imgs[0]
		}
		l.ListPrice = l.UnitPrice
		cart.Lines = append(cart.Lines, l)
	}
	if err := rows.Err(); err != nil {
		return Cart{}, errs.Wrap("cart", err)
	}
	rows.Close()
	return cart, s.priceCart(ctx, shopID, &cart)
}

// priceCart puts the running time-limited prices on the cart's lines, as
// checkout does, and adds up the selected, available ones.
func (s *Service) priceCart(ctx context.Context, shopID int64, cart *Cart) error {
	ids := make([]int64, len(cart.Lines))
	for i, l := range cart.Lines {
		ids[i] = l.SKUID
	}
	prices, err := s.timedPrices(ctx, shopID, ids, s.now())
	if err != nil {
		return errs.Wrap("cart prices", err)
	}
	for i := range cart.Lines {
		l := &cart.Lines[i]
		if p, ok := prices[l.SKUID]; ok && p < l.UnitPrice {
			l.UnitPrice = p
		}
		if l.Selected && l.Available {
			cart.SelectedTotal += l.UnitPrice * l.Quantity
		}
	}
	return nil
}

// AddToCart adds quantity of a SKU (on top of what the cart holds, at most 999).
func (s *Service) AddToCart(ctx context.Context, shopID, memberID int64, it Item) (Cart, error) {
	if it.SKUID <= 0 || it.Quantity < 1 || it.Quantity > MaxQuantity {
		return Cart{}, errs.Field("quantity", "invalid_quantity", "sku_id must be a SKU and quantity 1 to 999")
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := checkCartRoom(ctx, tx, shopID, memberID, it.SKUID); err != nil {
			return err
		}
		now := s.now().UnixMilli()
		_, err := tx.Exec(ctx, `INSERT INTO cart_items (shop_id, member_id, sku_id, quantity, selected, created_at, updated_at)
			VALUES (?, ?, ?, ?, TRUE, ?, ?)
			ON CONFLICT (shop_id, member_id, sku_id) DO UPDATE SET selected = TRUE, updated_at = excluded.updated_at,
				quantity = CASE WHEN cart_items.quantity + excluded.quantity > 999 THEN 999
					ELSE cart_items.quantity + excluded.quantity END`,
			shopID, memberID, it.SKUID, it.Quantity, now, now)
		return err
	})
	if err != nil {
		return Cart{}, errs.Wrap("add to cart", err)
	}
	return s.Cart(ctx, shopID, memberID)
}

// checkCartRoom refuses a SKU that is not for sale, or a new line in a full cart.
func checkCartRoom(ctx context.Context, tx *db.Tx, shopID, memberID, skuID int64) error {
	var lines, inCart, onSale int
	err := tx.QueryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM cart_items WHERE shop_id = ? AND member_id = ?),
		(SELECT COUNT(*) FROM cart_items WHERE shop_id = ? AND member_id = ? AND sku_id = ?),
		(SELECT COUNT(*) FROM skus k JOIN spus p ON p.id = k.spu_id WHERE k.id = ? AND k.shop_id = ?
			AND k.deleted_at IS NULL AND p.deleted_at IS NULL AND p.on_shelf = TRUE)`,
		shopID, memberID, shopID, memberID, skuID, skuID, shopID).Scan(&lines, &inCart, &onSale)
	switch {
	case err != nil:
		return err
	case onSale == 0:
		return errs.Field("sku_id", "sku_unavailable", "this SKU is not for sale")
	case inCart == 0 && lines >= MaxCartLines:
		return errs.E(errs.Conflict, "cart_full", "the cart holds 100 lines at most")
	}
	return nil
}

// UpdateCartLine changes a line's quantity or selection.
func (s *Service) UpdateCartLine(ctx context.Context, shopID, memberID, lineID int64, u CartUpdate) (Cart, error) {
	if u.Quantity != nil && (*u.Quantity < 1 || *u.Quantity > MaxQuantity) {
		return Cart{}, errs.Field("quantity", "invalid_quantity", "must be 1 to 999")
	}
	var qty, sel any
	if u.Quantity != nil {
		qty = *u.Quantity
	}
	if u.Selected != nil {
		sel = *u.Selected
	}
	err := db.ExpectOne(s.db.Exec(ctx, `UPDATE cart_items SET quantity = COALESCE(?, quantity),
		selected = COALESCE(?, selected), updated_at = ? WHERE id = ? AND shop_id = ? AND member_id = ?`,
		qty, sel, s.now().UnixMilli(), lineID, shopID, memberID))
	if db.IsNoRows(err) {
		return Cart{}, errCartLineNotFound
	}
	if err != nil {
		return Cart{}, errs.Wrap("update cart", err)
	}
	return s.Cart(ctx, shopID, memberID)
}

var errCartLineNotFound = errs.E(errs.NotFound, "cart_line_not_found", "no such cart line")

// RemoveCartLine takes a line out of the cart.
func (s *Service) RemoveCartLine(ctx context.Context, shopID, memberID, lineID int64) (Cart, error) {
	err := db.ExpectOne(s.db.Exec(ctx, `DELETE FROM cart_items WHERE id = ? AND shop_id = ? AND member_id = ?`, lineID, shopID, memberID))
	if db.IsNoRows(err) {
		return Cart{}, errCartLineNotFound
	}
	if err != nil {
		return Cart{}, errs.Wrap("remove cart line", err)
	}
	return s.Cart(ctx, shopID, memberID)
}

// takeCart removes the selected lines from the cart and returns them as
// items, inside the checkout's transaction (a failed checkout keeps them).
func takeCart(ctx context.Context, tx *db.Tx, shopID, memberID int64) ([]Item, error) {
	items, err := selectedCart(ctx, tx, shopID, memberID)
	if err != nil {
		return nil, err
	}
	_, err = tx.Exec(ctx, `DELETE FROM cart_items WHERE shop_id = ? AND member_id = ? AND selected = TRUE`, shopID, memberID)
	return items, err
}

// selectedCart returns the cart's selected lines as items.
func selectedCart(ctx context.Context, q db.Querier, shopID, memberID int64) ([]Item, error) {
	rows, err := q.Query(ctx, `SELECT sku_id, quantity FROM cart_items WHERE shop_id = ? AND member_id = ? AND selected = TRUE`, shopID, memberID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var items []Item
	for rows.Next() {
		var it Item
		if err := rows.Scan(&it.SKUID, &it.Quantity); err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errs.E(errs.Invalid, "cart_empty", "no selected lines in the cart")
	}
	return items, nil
}
