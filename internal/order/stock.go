package order

import (
	"context"
	"fmt"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// lockStock moves qty units of a SKU from sellable to locked, if there are
// that many; the affected-row count decides, so stock never goes negative.
func lockStock(ctx context.Context, tx *db.Tx, shopID, orderID, skuID, qty int64, now time.Time) error {
	err := db.ExpectOne(tx.Exec(ctx, `UPDATE skus SET stock = stock - ?, locked = locked + ?
		WHERE id = ? AND shop_id = ? AND stock >= ?`, qty, qty, skuID, shopID, qty))
	if db.IsNoRows(err) {
		return &errs.Error{Kind: errs.Conflict, Code: "out_of_stock", Message: fmt.Sprintf("SKU %d does not have %d in stock", skuID, qty),
			Fields: map[string]string{"items": "out of stock"}}
	}
	if err != nil {
		return err
	}
	return ledger(ctx, tx, shopID, skuID, orderID, "lock", -qty, now)
}

// releaseStock returns an order's locked units to sale (cancellation).
// Flash-sale lines are left out: their units go back to the sale (the
// promotion package does that).
func releaseStock(ctx context.Context, tx *db.Tx, shopID, orderID int64, now time.Time) error {
	return moveLocked(ctx, tx, shopID, orderID, now, "release", func(l Item) (string, []any) {
		return `UPDATE skus SET stock = stock + ?, locked = locked - ? WHERE id = ? AND shop_id = ? AND locked >= ?`,
			[]any{l.Quantity, l.Quantity, l.SKUID, shopID, l.Quantity}
	})
}

// deductStock takes an order's locked units out for good (payment).
func deductStock(ctx context.Context, tx *db.Tx, shopID, orderID int64, now time.Time) error {
	return moveLocked(ctx, tx, shopID, orderID, now, "deduct", func(l Item) (string, []any) {
		return `UPDATE skus SET locked = locked - ? WHERE id = ? AND shop_id = ? AND locked >= ?`,
			[]any{l.Quantity, l.SKUID, shopID, l.Quantity}
	})
}

// moveLocked applies update (a compare-and-set on locked units) to every
// line of the order and records each movement.
func moveLocked(ctx context.Context, tx *db.Tx, shopID, orderID int64, now time.Time, kind string, update func(Item) (string, []any)) error {
	lines, err := lineQuantities(ctx, tx, shopID, orderID, kind == "release")
	if err != nil {
		return err
	}
	for _, l := range lines {
		query, args := update(l)
		if err := db.ExpectOne(tx.Exec(ctx, query, args...)); err != nil {
			return fmt.Errorf("%s stock of SKU %d: %w", kind, l.SKUID, err)
		}
		qty := l.Quantity
		if kind == "deduct" {
			qty = -qty
		}
		if err := ledger(ctx, tx, shopID, l.SKUID, orderID, kind, qty, now); err != nil {
			return err
		}
	}
	return nil
}

func lineQuantities(ctx context.Context, tx *db.Tx, shopID, orderID int64, skipFlash bool) ([]Item, error) {
	rows, err := tx.Query(ctx, `SELECT sku_id, quantity FROM order_lines WHERE order_id = ? AND shop_id = ?
		AND (? = FALSE OR flash_sale_id IS NULL) ORDER BY sku_id`, orderID, shopID, skipFlash)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		var it Item
		if err := rows.Scan(&it.SKUID, &it.Quantity); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// ledger records a stock movement; quantity is the change in sellable
// stock for lock and release, and the units shipped out (negative) for deduct.
func ledger(ctx context.Context, tx *db.Tx, shopID, skuID, orderID int64, kind string, qty int64, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO stock_ledger (shop_id, sku_id, order_id, kind, quantity, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, shopID, skuID, orderID, kind, qty, now.UnixMilli())
	return err
}

// ReturnStockTx puts qty units of a SKU that came back from the buyer (a
// return or an exchange) back on sale, inside the caller's transaction,
// and records it in the stock ledger as 'return'. The caller makes it
// happen once (a compare-and-set on its own state in the same
// transaction).
func ReturnStockTx(ctx context.Context, tx *db.Tx, shopID, orderID, skuID, qty int64) error {
	if qty <= 0 {
		return fmt.Errorf("return stock of SKU %d: quantity %d", skuID, qty)
	}
	if err := db.ExpectOne(tx.Exec(ctx, `UPDATE skus SET stock = stock + ? WHERE id = ? AND shop_id = ?`, qty, skuID, shopID)); err != nil {
		return fmt.Errorf("return stock of SKU %d: %w", skuID, err)
	}
	return ledger(ctx, tx, shopID, skuID, orderID, "return", qty, db.NowTime())
}

// ExchangeStockTx takes qty units of a SKU out of sale for a replacement
// shipped to the buyer, inside the caller's transaction: a compare-and-set
// that fails with out_of_stock when there are fewer; recorded as
// 'exchange'.
func ExchangeStockTx(ctx context.Context, tx *db.Tx, shopID, orderID, skuID, qty int64) error {
	if qty <= 0 {
		return fmt.Errorf("exchange stock of SKU %d: quantity %d", skuID, qty)
	}
	err := db.ExpectOne(tx.Exec(ctx, `UPDATE skus SET stock = stock - ? WHERE id = ? AND shop_id = ? AND stock >= ?`, qty, skuID, shopID, qty))
	if db.IsNoRows(err) {
		return &errs.Error{Kind: errs.Conflict, Code: "out_of_stock", Message: fmt.Sprintf("SKU %d does not have %d in stock for the replacement", skuID, qty)}
	}
	if err != nil {
		return err
	}
	return ledger(ctx, tx, shopID, skuID, orderID, "exchange", -qty, db.NowTime())
}
