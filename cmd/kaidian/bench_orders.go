package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/bench"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/session"
	"github.com/kaidian/kaidian/internal/server"
)

// ordersBuyers is how many buyers place orders, and the default number of
// clients of the orders scenario (one per buyer) when --clients is not given.
const ordersBuyers = 100

// ordersTargets are the goals for order creation, per engine.
var ordersTargets = map[string]bench.Target{
	string(db.SQLite):   {MinRPS: 5000, MaxP99: 50 * time.Millisecond},
	string(db.Postgres): {MinRPS: 2000, MaxP99: 50 * time.Millisecond},
}

// ordersState is what the database held before the orders scenario, to
// check it afterwards.
type ordersState struct {
	shop          int64
	orders        int64 // orders of the shop
	lines, qty    int64 // order lines of the shop and their units
	locked        int64 // units locked in the shop's SKUs
	skus          int64
	createdBySelf uint64 // 201 answers of the sample
}

// setupOrders prepares the orders scenario on shop 1 of the loaded catalog:
// ordersBuyers members with a session each, and OrderStock units (stock +
// locked) in every SKU of the shop.
func setupOrders(ctx context.Context, srv *server.Server, ds *bench.Dataset) (*bench.Orders, *ordersState, error) {
	const shop = 1
	d := srv.DB
	var subject string
	if err := d.QueryRow(ctx, `SELECT subject_type FROM shops WHERE id = ?`, shop).Scan(&subject); err != nil {
		return nil, nil, fmt.Errorf("orders: shop: %w", err)
	}
	if subject == "personal" {
		return nil, nil, fmt.Errorf("orders: shop %d is a personal mini program, which cannot take payments", shop)
	}
	if _, err := d.Exec(ctx, `UPDATE skus SET stock = ? - locked WHERE shop_id = ?`, bench.OrderStock, shop); err != nil {
		return nil, nil, fmt.Errorf("orders: stock: %w", err)
	}
	o := &bench.Orders{Data: ds, Shop: shop}
	now := time.Now()
	tag := strconv.FormatInt(now.UnixNano(), 36)
	for i := range ordersBuyers {
		var id int64
		err := d.QueryRow(ctx, `INSERT INTO members (shop_id, openid, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id`,
			shop, fmt.Sprintf("bench-%s-%03d", tag, i), now.UnixMilli(), now.UnixMilli()).Scan(&id)
		if err != nil {
			return nil, nil, fmt.Errorf("orders: member: %w", err)
		}
		tok, _, err := srv.Sessions.Create(ctx, session.Member, id, shop, 24*time.Hour)
		if err != nil {
			return nil, nil, fmt.Errorf("orders: session: %w", err)
		}
		o.Buyers = append(o.Buyers, bench.Buyer{MemberID: id, Token: tok})
	}
	st, err := readOrdersState(ctx, d, shop)
	return o, &st, err
}

func readOrdersState(ctx context.Context, d *db.DB, shop int64) (ordersState, error) {
	st := ordersState{shop: shop}
	err := d.QueryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM orders WHERE shop_id = ?),
		(SELECT COUNT(*) FROM order_lines WHERE shop_id = ?),
		(SELECT COALESCE(SUM(quantity), 0) FROM order_lines WHERE shop_id = ?),
		(SELECT COALESCE(SUM(locked), 0) FROM skus WHERE shop_id = ?),
		(SELECT COUNT(*) FROM skus WHERE shop_id = ?)`, shop, shop, shop, shop, shop).
		Scan(&st.orders, &st.lines, &st.qty, &st.locked, &st.skus)
	return st, err
}

// checkOrders verifies the database after the orders scenario: one order
// (of one line, one unit) per 201 answer, every unit ordered locked, and no
// SKU oversold: stock + locked is still OrderStock and stock is not
// negative.
func checkOrders(ctx context.Context, d *db.DB, before *ordersState, created uint64) (string, bool, error) {
	after, err := readOrdersState(ctx, d, before.shop)
	if err != nil {
		return "", false, err
	}
	var drift, negative int64
	err = d.QueryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM skus WHERE shop_id = ? AND stock + locked <> ?),
		(SELECT COUNT(*) FROM skus WHERE shop_id = ? AND stock < 0)`, before.shop, bench.OrderStock, before.shop).
		Scan(&drift, &negative)
	if err != nil {
		return "", false, err
	}
	orders, lines, qty, locked := after.orders-before.orders, after.lines-before.lines, after.qty-before.qty, after.locked-before.locked
	var bad []string
	if uint64(orders) != created {
		bad = append(bad, fmt.Sprintf("%d orders in the database for %d 201 answers", orders, created))
	}
	if lines != orders || qty != orders {
		bad = append(bad, fmt.Sprintf("%d lines of %d units for %d orders", lines, qty, orders))
	}
	if locked != qty {
		bad = append(bad, fmt.Sprintf("%d units locked for %d ordered", locked, qty))
	}
	if drift > 0 {
		bad = append(bad, fmt.Sprintf("%d SKUs where stock + locked ≠ %d", drift, bench.OrderStock))
	}
	if negative > 0 {
		bad = append(bad, fmt.Sprintf("%d SKUs with negative stock", negative))
	}
	msg := fmt.Sprintf("%d orders created = %d 201 answers; %d units locked = %d ordered; %d SKUs of shop %d: stock + locked = %d in all, none negative (no oversell)",
		orders, created, locked, qty, after.skus, before.shop, bench.OrderStock)
	if len(bad) > 0 {
		msg = "INCONSISTENT: " + strings.Join(bad, "; ")
	}
	return msg, len(bad) == 0, nil
}

// sampleOrders places a few orders one at a time and checks the answers,
// and that replaying a request under its Idempotency-Key returns the same
// order. It returns the sample line and how many orders it created.
func sampleOrders(ctx context.Context, c *http.Client, base string, o *bench.Orders, seed uint64) (string, uint64, error) {
	r := mrand.New(mrand.NewPCG(seed, 0xfeed))
	const n = 20
	post := func(req bench.Request) (int, []byte, error) {
		hreq, err := bench.NewHTTPRequest(ctx, base, req)
		if err != nil {
			return 0, nil, err
		}
		resp, err := c.Do(hreq)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, body, err
	}
	type order struct {
		ID          int64  `json:"id"`
		Status      string `json:"status"`
		TotalAmount int64  `json:"total_amount"`
	}
	var created uint64
	var first bench.Request
	var firstID, total int64
	for i := range n {
		req, key := o.Request(r, i)
		status, body, err := post(req)
		if err != nil {
			return "", created, err
		}
		if status != http.StatusCreated {
			return "", created, fmt.Errorf("POST /api/v1/orders (%s): %d %s", key, status, body)
		}
		created++
		var v order
		if err := json.Unmarshal(body, &v); err != nil {
			return "", created, err
		}
		if v.ID <= 0 || v.Status != "pending_payment" || v.TotalAmount <= 0 {
			return "", created, fmt.Errorf("unexpected order %s", body)
		}
		total += v.TotalAmount
		if i == 0 {
			first, firstID = req, v.ID
		}
	}
	status, body, err := post(first)
	if err != nil {
		return "", created, err
	}
	var again order
	if status != http.StatusCreated || json.Unmarshal(body, &again) != nil || again.ID != firstID {
		return "", created, fmt.Errorf("replayed Idempotency-Key: %d %s, want order %d again", status, body, firstID)
	}
	// A used key with another body is refused.
	other := first
	other.Body = bytes.Replace(first.Body, []byte(`"quantity":1`), []byte(`"quantity":2`), 1)
	if status, body, err = post(other); err != nil || status != http.StatusConflict {
		return "", created, fmt.Errorf("reused Idempotency-Key with another order: %d %s %v, want 409", status, body, err)
	}
	return fmt.Sprintf("%d sampled orders of 1 unit (%.2f yuan each on average, shipping included) created with 201, idempotent replay returned the same order, key reuse refused",
		n, float64(total)/n/100), created, nil
}
