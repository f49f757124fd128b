package main

import (
	"context"
	"database/sql"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/kaidian/kaidian/internal/bench"
	"github.com/kaidian/kaidian/internal/platform/db"
)

// orders1tx is the anchor of order creation (issue 19): the same rows an
// order writes (order, line, stock compare-and-set, ledger, event,
// auto-cancel job), written straight into the database, one transaction
// per order, with no HTTP, no session, no idempotency check and no
// grouping. The orders scenario is reported as a share of it.
type orders1tx struct {
	d      *db.DB
	o      *bench.Orders
	seq    atomic.Int64
	prefix string
}

func newOrders1tx(d *db.DB, o *bench.Orders) *orders1tx {
	return &orders1tx{d: d, o: o, prefix: "1TX" + strconv.FormatInt(time.Now().UnixNano(), 36)}
}

// Client returns the call of client i: one order of one unit of a random
// SKU by buyer i (mod the buyers).
func (a *orders1tx) Client(i int) func(ctx context.Context, r *mrand.Rand) error {
	buyer := a.o.Buyers[i%len(a.o.Buyers)]
	return func(ctx context.Context, r *mrand.Rand) error {
		sku := a.o.Data.OrderSKU(r, a.o.Shop)
		n := a.seq.Add(1)
		return a.d.InTx(ctx, func(tx *db.Tx) error { return a.place(ctx, tx, buyer.MemberID, sku, n) })
	}
}

func (a *orders1tx) place(ctx context.Context, tx *db.Tx, member, sku, n int64) error {
	shop := a.o.Shop
	now := time.Now().UnixMilli()
	var spu, price int64
	var title, specs, images string
	err := tx.QueryRow(ctx, `SELECT k.spu_id, p.title, k.spec_values, p.images, k.price
		FROM skus k JOIN spus p ON p.id = k.spu_id
		WHERE k.id = ? AND k.shop_id = ? AND k.deleted_at IS NULL AND p.deleted_at IS NULL AND p.on_shelf = TRUE`,
		sku, shop).Scan(&spu, &title, &specs, &images, &price)
	if err != nil {
		return fmt.Errorf("orders-1tx: price: %w", err)
	}
	key := a.prefix + "-" + strconv.FormatInt(n, 10)
	var orderID int64
	err = tx.QueryRow(ctx, `INSERT INTO orders (shop_id, member_id, order_no, status, goods_amount, shipping_fee,
		discount_amount, total_amount, address, buyer_note, phone, idempotency_key, request_hash, pay_deadline,
		breakdown, coupon_id, created_at, updated_at)
		VALUES (?, ?, ?, 'pending_payment', ?, 0, 0, ?, ?, '', '13800138000', ?, 'orders-1tx', ?, '{}', NULL, ?, ?) RETURNING id`,
		shop, member, key, price, price, bench.OrderAddress, key, now+30*60_000, now, now).Scan(&orderID)
	if err != nil {
		return fmt.Errorf("orders-1tx: order: %w", err)
	}
	var lineID int64
	err = tx.QueryRow(ctx, `INSERT INTO order_lines (shop_id, order_id, spu_id, sku_id, title, spec_values, image,
		unit_price, quantity, amount, tax_rate, original_price, discount, flash_sale_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, 1300, 0, 0, NULL) RETURNING id`,
		shop, orderID, spu, sku, title, specs, images, price, price).Scan(&lineID)
	if err != nil {
		return fmt.Errorf("orders-1tx: line: %w", err)
	}
	if err := db.ExpectOne(tx.Exec(ctx, `UPDATE skus SET stock = stock - 1, locked = locked + 1
		WHERE id = ? AND shop_id = ? AND stock >= 1`, sku, shop)); err != nil {
		return fmt.Errorf("orders-1tx: stock of SKU %d: %w", sku, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO stock_ledger (shop_id, sku_id, order_id, kind, quantity, created_at)
		VALUES (?, ?, ?, 'lock', -1, ?)`, shop, sku, orderID, now); err != nil {
		return fmt.Errorf("orders-1tx: ledger: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO order_events (shop_id, order_id, actor, from_status, to_status, reason, created_at)
		VALUES (?, ?, ?, '', 'pending_payment', 'order placed', ?)`, shop, orderID, "member:"+strconv.FormatInt(member, 10), now); err != nil {
		return fmt.Errorf("orders-1tx: event: %w", err)
	}
	var jobID sql.NullInt64
	err = tx.QueryRow(ctx, `INSERT INTO jobs (kind, shop_id, payload, unique_key, max_attempts, run_at, created_at)
		VALUES ('order.auto_cancel', ?, ?, ?, 10, ?, ?) RETURNING id`,
		shop, `{"order_id":`+strconv.FormatInt(orderID, 10)+`}`, "order-cancel:"+strconv.FormatInt(orderID, 10), now+30*60_000, now).Scan(&jobID)
	if err != nil {
		return fmt.Errorf("orders-1tx: job: %w", err)
	}
	return nil
}
