package order

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/shop"
)

// oneStatement reports whether an order is written by placeOneStatement:
// on PostgreSQL, a "buy now" order that uses no promotion. The cart, flash
// claims, group seats and coupons touch more tables and take the general
// path (place, in a transaction).
func (s *Service) oneStatement(in CreateInput) bool {
	return s.db.Engine == db.Postgres && len(s.onCreated) == 0 && !in.FromCart && !in.usesPromotions() && in.Points == 0 && len(in.Items) > 0
}

// errSlowPath means that placeOneStatement wrote nothing and the order must
// take the general path: a SKU did not have the stock (the general path
// says which one), the order costs nothing, or a deadlock between
// multi-line orders.
var errSlowPath = errors.New("order: take the general path")

// placeOneStatement prices the order, then writes all of it (order, lines,
// stock compare-and-set, ledger, event, auto-cancel job) in ONE statement
// of data-modifying CTEs, one INSERT or UPDATE per table whatever the
// number of lines. A single statement is atomic in PostgreSQL, so it needs
// no BEGIN and COMMIT: one round trip instead of ten (the profile had
// PostgreSQL's CPU per statement as the bound of order creation). If a
// SKU lacks the stock, the final SELECT divides by zero, which aborts the
// statement and so undoes every CTE; the caller then takes the general
// path. The price is read before the statement, as in the general path
// under READ COMMITTED (a read takes no lock there either).
func (s *Service) placeOneStatement(ctx context.Context, sh shop.Shop, memberID int64, key, hash string, in CreateInput) (Order, error) {
	now := ms(s.now().UnixMilli())
	o, err := s.quote(ctx, s.db, sh, memberID, in, in.Items, now)
	if err != nil {
		return Order{}, err
	}
	if o.TotalAmount == 0 {
		return Order{}, errSlowPath
	}
	n := len(o.Lines)
	spu, sku, price, qty, amount, tax, orig, disc := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n),
		make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	title, specs, image := make([]string, n), make([]string, n), make([]string, n)
	for i, l := range o.Lines {
		spu[i], sku[i], price[i], qty[i], amount[i], tax[i], orig[i], disc[i] =
			l.SPUID, l.SKUID, l.UnitPrice, l.Quantity, l.Amount, l.TaxRate, l.OriginalPrice, l.Discount
		title[i], specs[i], image[i] = l.Title, string(mustJSON(l.SpecValues)), l.Image
	}
	created := o.CreatedAt.UnixMilli()
	var lineIDs string // "id,id,…": database/sql cannot scan an array
	err = s.db.QueryRow(ctx, placeSQL,
		sh.ID, o.MemberID, o.OrderNo, o.Status, o.GoodsAmount, o.ShippingFee, o.DiscountAmount, o.TotalAmount,
		string(mustJSON(o.Address)), o.BuyerNote, o.Address.Phone, key, hash, o.PayDeadline.UnixMilli(),
		string(mustJSON(o.Breakdown)), created,
		spu, sku, title, specs, image, price, qty, amount, tax, orig, disc,
		string(MemberActor(memberID)), AutoCancelKind, AutoCancelAttempts, time.Now().UnixMilli(), n).
		Scan(&o.ID, &lineIDs, new(int64))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "22012" || pgErr.Code == "40P01") {
		return Order{}, errSlowPath // out of stock (division by zero) or a deadlock: nothing was written
	}
	if err != nil {
		return Order{}, err
	}
	ids := strings.Split(lineIDs, ",")
	if len(ids) != n {
		return Order{}, fmt.Errorf("order %d: %d line ids for %d lines", o.ID, len(ids), n)
	}
	for i := range o.Lines {
		if o.Lines[i].ID, err = strconv.ParseInt(ids[i], 10, 64); err != nil {
			return Order{}, err
		}
	}
	return o, nil
}

// placeSQL writes an order in one statement. Lines come as parallel arrays
// ordered by SKU id (mergeItems), so the line ids come back in the same
// order. The auto-cancel job is what jobs.Enqueue would write (its payload
// is autoCancel's JSON).
const placeSQL = `WITH o AS (
	INSERT INTO orders (shop_id, member_id, order_no, status, goods_amount, shipping_fee, discount_amount, total_amount,
		address, buyer_note, phone, idempotency_key, request_hash, pay_deadline, breakdown, coupon_id, created_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, NULL, $16, $16) RETURNING id
), items AS (
	SELECT * FROM unnest($17::bigint[], $18::bigint[], $19::text[], $20::text[], $21::text[], $22::bigint[], $23::bigint[],
		$24::bigint[], $25::bigint[], $26::bigint[], $27::bigint[])
		AS t(spu_id, sku_id, title, spec_values, image, unit_price, quantity, amount, tax_rate, original_price, discount)
), l AS (
	INSERT INTO order_lines (shop_id, order_id, spu_id, sku_id, title, spec_values, image, unit_price, quantity, amount,
		tax_rate, original_price, discount)
	SELECT $1, o.id, i.spu_id, i.sku_id, i.title, i.spec_values, i.image, i.unit_price, i.quantity, i.amount,
		i.tax_rate, i.original_price, i.discount FROM o, items i
	RETURNING id, sku_id
), s AS (
	UPDATE skus k SET stock = k.stock - i.quantity, locked = k.locked + i.quantity
	FROM items i WHERE k.id = i.sku_id AND k.shop_id = $1 AND k.stock >= i.quantity
	RETURNING k.id, i.quantity
), g AS (
	INSERT INTO stock_ledger (shop_id, sku_id, order_id, kind, quantity, created_at)
	SELECT $1, s.id, o.id, 'lock', -s.quantity, $16 FROM s, o
), e AS (
	INSERT INTO order_events (shop_id, order_id, actor, from_status, to_status, reason, created_at)
	SELECT $1, o.id, $28, '', $4, 'order placed', $16 FROM o
), j AS (
	INSERT INTO jobs (kind, shop_id, payload, unique_key, max_attempts, run_at, created_at)
	SELECT $29, $1, '{"order_id":' || o.id || '}', 'order-cancel:' || o.id, $30, $14, $31 FROM o
	ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND state IN ('queued','running') DO NOTHING
)
SELECT o.id, array_to_string(ARRAY(SELECT id FROM l ORDER BY sku_id), ','),
	(SELECT count(*) FROM s) / (CASE WHEN (SELECT count(*) FROM s) = $32 THEN 1 ELSE 0 END)
FROM o`

// mustJSON is json.Marshal of a value that always encodes (the general
// path's inserts ignore the same error).
func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
