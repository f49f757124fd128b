package server_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
	"github.com/kaidian/kaidian/internal/promotion"
)

// setStock gives shop a's SKU n units in stock.
func (e *env) setStock(a testShop, n int) {
	e.t.Helper()
	if _, err := e.srv.DB.Exec(context.Background(), `UPDATE skus SET stock = ? WHERE id = ?`, n, a.skuID); err != nil {
		e.t.Fatal(err)
	}
}

// addMembers inserts n buyers of shop a directly (logging 600 buyers in
// through the WeChat sandbox would only slow the test).
func (e *env) addMembers(a testShop, n int) []int64 {
	e.t.Helper()
	ids := make([]int64, n)
	for i := range ids {
		err := e.srv.DB.QueryRow(context.Background(), `INSERT INTO members (shop_id, openid, unionid, created_at, updated_at)
			VALUES (?, ?, '', 0, 0) RETURNING id`, a.id, fmt.Sprintf("flash-%d-%d", a.id, i)).Scan(&ids[i])
		if err != nil {
			e.t.Fatal(err)
		}
	}
	return ids
}

func (e *env) skuStock(a testShop) (stock, locked int64) {
	e.t.Helper()
	if err := e.srv.DB.QueryRow(context.Background(), `SELECT stock, locked FROM skus WHERE id = ?`, a.skuID).Scan(&stock, &locked); err != nil {
		e.t.Fatal(err)
	}
	return stock, locked
}

func (e *env) saleRemaining(saleID int64) int64 {
	e.t.Helper()
	var n int64
	if err := e.srv.DB.QueryRow(context.Background(), `SELECT remaining FROM flash_sales WHERE id = ?`, saleID).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// claimAll fires one claim per member at once through claimer and counts
// the outcomes by error code ("" = won).
func claimAll(t *testing.T, c *promotion.Claimer, shopID, saleID int64, members []int64) map[string]int {
	ctx := context.Background()
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, m := range members {
		tok, _, err := c.Token(ctx, shopID, saleID, m)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := c.Claim(ctx, shopID, saleID, m, 1, tok)
			code := ""
			if err != nil {
				code = errs.As(err).Code
			}
			mu.Lock()
			got[code]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return got
}

func TestFlashSaleNeverOversells(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		e.setStock(a, 1000)
		sale := e.newSale(a, "百件秒杀", 100, time.Now())
		if stock, locked := e.skuStock(a); stock != 900 || locked < 100 {
			t.Fatalf("the sale's units must leave the SKU's stock: stock %d locked %d", stock, locked)
		}
		members := e.addMembers(a, 600)
		got := claimAll(t, e.srv.Promos.Claimer, a.id, sale, members)
		if got[""] != 100 || got["sold_out"] != 500 {
			t.Fatalf("outcomes = %v, want 100 won and 500 sold_out", got)
		}
		if left := e.saleRemaining(sale); left != 0 {
			t.Fatalf("remaining = %d", left)
		}
		var claims, buyers int64
		e.srv.DB.QueryRow(context.Background(), `SELECT COALESCE(SUM(quantity), 0), COUNT(DISTINCT member_id) FROM flash_claims WHERE sale_id = ?`, sale).Scan(&claims, &buyers)
		if claims != 100 || buyers != 100 {
			t.Fatalf("claims hold %d units for %d buyers, want 100/100", claims, buyers)
		}
	})
}

func TestFlashSaleTwoProcessesSellExactlyTheQuantity(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		e.setStock(a, 1000)
		sale := e.newSale(a, "两进程秒杀", 150, time.Now())
		members := e.addMembers(a, 400)
		other, err := db.Open(context.Background(), e.dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		second := promotion.NewClaimer(other, nil)
		defer second.Close()
		first := promotion.NewClaimer(e.srv.DB, nil)
		defer first.Close()
		var got [2]map[string]int
		var wg sync.WaitGroup
		for i, c := range []*promotion.Claimer{first, second} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Both processes see every buyer: each buyer tries twice.
				got[i] = claimAll(t, c, a.id, sale, members)
			}()
		}
		wg.Wait()
		if won := got[0][""] + got[1][""]; won != 150 {
			t.Fatalf("two processes sold %d, want 150: %v %v", won, got[0], got[1])
		}
		var live int64
		e.srv.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM flash_claims WHERE sale_id = ? AND status <> 'expired'`, sale).Scan(&live)
		if live != 150 || e.saleRemaining(sale) != 0 {
			t.Fatalf("live claims %d, remaining %d", live, e.saleRemaining(sale))
		}
	})
}

func TestFlashSalePerUserLimitAndCheapRejections(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		e.setStock(a, 100)
		sale := e.newSale(a, "限购秒杀", 3, time.Now())
		c := e.srv.Promos.Claimer
		ctx := context.Background()
		m := e.addMembers(a, 4)

		// One buyer, 20 simultaneous tries with 20 valid tokens: one claim.
		var won atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			tok, _, _ := c.Token(ctx, a.id, sale, m[0])
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.Claim(ctx, a.id, sale, m[0], 1, tok); err == nil {
					won.Add(1)
				}
			}()
			time.Sleep(time.Millisecond) // distinct token timestamps
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Fatalf("one buyer won %d claims, limit 1", won.Load())
		}

		tok, _, _ := c.Token(ctx, a.id, sale, m[1])
		if _, err := c.Claim(ctx, a.id, sale, m[1], 2, tok); !errs.Is(err, "over_limit") {
			t.Fatalf("2 units over a limit of 1: %v", err)
		}
		if _, err := c.Claim(ctx, a.id, sale, m[1], 1, "123."+"00000000000000000000000000000000"); !errs.Is(err, "flash_token_invalid") {
			t.Fatalf("forged token: %v", err)
		}
		other, _, _ := c.Token(ctx, a.id, sale, m[2])
		if _, err := c.Claim(ctx, a.id, sale, m[1], 1, other); !errs.Is(err, "flash_token_invalid") {
			t.Fatalf("another buyer's token: %v", err)
		}
		time.Sleep(350 * time.Millisecond) // past the per-buyer gap
		if _, err := c.Claim(ctx, a.id, sale, m[1], 1, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Claim(ctx, a.id, sale, m[1], 1, tok); !errs.Is(err, "already_claimed") && !errs.Is(err, "too_many_requests") {
			t.Fatalf("a replayed claim: %v", err)
		}
		tok2, _, _ := c.Token(ctx, a.id, sale, m[2])
		if _, err := c.Claim(ctx, a.id, sale, m[2], 1, tok2); err != nil {
			t.Fatal(err)
		}
		// Sold out now. Put units back behind the engine's back: the next
		// claim is still refused from memory (the database is not asked),
		// and after the recheck interval the units sell.
		if _, err := e.srv.DB.Exec(ctx, `UPDATE flash_sales SET remaining = 1 WHERE id = ?`, sale); err != nil {
			t.Fatal(err)
		}
		tok3, _, _ := c.Token(ctx, a.id, sale, m[3])
		if _, err := c.Claim(ctx, a.id, sale, m[3], 1, tok3); !errs.Is(err, "sold_out") {
			t.Fatalf("after sell-out: %v, want sold_out from memory", err)
		}
		time.Sleep(1100 * time.Millisecond)
		tok3, _, _ = c.Token(ctx, a.id, sale, m[3])
		if _, err := c.Claim(ctx, a.id, sale, m[3], 1, tok3); err != nil {
			t.Fatalf("after the recheck the returned unit sells: %v", err)
		}
	})
}

func TestFlashSaleWindowAndTokens(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		e.setStock(a, 100)
		later := e.newSale(a, "明天秒杀", 5, time.Now().Add(24*time.Hour))
		r := e.do(a.member, "GET", fmt.Sprintf("/api/v1/flash-sales/%d/token", later), nil)
		if r.status != 409 || r.code() != "flash_sale_not_started" {
			t.Fatalf("token a day early: %d %s", r.status, r.body)
		}
		soon := e.newSale(a, "马上秒杀", 5, time.Now().Add(2*time.Minute))
		tok := e.must(a.member, 200, "GET", fmt.Sprintf("/api/v1/flash-sales/%d/token", soon), nil)["token"]
		r = e.do(a.member, "POST", fmt.Sprintf("/api/v1/flash-sales/%d/claim", soon), map[string]any{"token": tok})
		if r.status != 409 || r.code() != "flash_sale_not_started" {
			t.Fatalf("claim before the start: %d %s", r.status, r.body)
		}
		list := e.do(caller{appid: a.appid}, "GET", "/api/v1/flash-sales", nil)
		if list.status != 200 || !contains(string(list.body), "马上秒杀") {
			t.Fatalf("current sales: %d %s", list.status, list.body)
		}
	})
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// TestFlashSaleClaimToPaidOrder walks the buyer's path through the API:
// token, claim, preview, order at the sale price, pay at the sandbox.
func TestFlashSaleClaimToPaidOrder(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.enablePay(op, a, paysandbox.KeyModePublicKey)
		e.setStock(a, 100)
		sale := e.newSale(a, "整点秒杀", 10, time.Now())
		tok := e.must(a.member, 200, "GET", fmt.Sprintf("/api/v1/flash-sales/%d/token", sale), nil)["token"]
		claim := e.must(a.member, 201, "POST", fmt.Sprintf("/api/v1/flash-sales/%d/claim", sale), map[string]any{"token": tok})
		claimID := int64(claim["id"].(float64))

		pv := e.must(a.member, 200, "POST", "/api/v1/orders/preview", map[string]any{"flash_claim_id": claimID})
		bd := pv["breakdown"].(map[string]any)
		if bd["goods_amount"].(float64) != 4900 || bd["promo_discount"].(float64) != 5000 || bd["list_amount"].(float64) != 9900 {
			t.Fatalf("preview breakdown = %v", bd)
		}
		r := e.withHeader("Idempotency-Key", "flash-order-1").do(a.member, "POST", "/api/v1/orders",
			map[string]any{"flash_claim_id": claimID, "address": testAddress})
		if r.status != 201 {
			t.Fatalf("order from claim: %d %s", r.status, r.body)
		}
		o := r.json(t)
		line := o["lines"].([]any)[0].(map[string]any)
		if line["unit_price"].(float64) != 4900 || line["original_price"].(float64) != 9900 || int64(line["flash_sale_id"].(float64)) != sale {
			t.Fatalf("flash line = %v", line)
		}
		deadline, _ := time.Parse(time.RFC3339, o["pay_deadline"].(string))
		expires, _ := time.Parse(time.RFC3339, claim["expires_at"].(string))
		if deadline.After(expires) {
			t.Fatalf("the order's payment window (%v) outlasts the claim's (%v)", deadline, expires)
		}
		r = e.withHeader("Idempotency-Key", "flash-order-2").do(a.member, "POST", "/api/v1/orders",
			map[string]any{"flash_claim_id": claimID, "address": testAddress})
		if r.status != 410 || r.code() != "flash_claim_expired" {
			t.Fatalf("a claim ordered twice: %d %s", r.status, r.body)
		}
		orderID := int64(o["id"].(float64))
		_, lockedBefore := e.skuStock(a)
		params := e.payParams(a.member, orderID)
		if _, err := e.pay.PayWithParams(context.Background(), a.appid, params); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the flash order paid", func() bool { return e.orderStatus(a.owner, orderID) == "paid" })
		res := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/flash-sales/%d", sale), nil)
		if res["paid_orders"].(float64) != 1 || res["gmv"].(float64) != 4900 || res["buyers"].(float64) != 1 || res["claimed"].(float64) != 1 {
			t.Fatalf("sale results = %v", res)
		}
		if _, locked := e.skuStock(a); locked != lockedBefore-1 {
			t.Fatalf("payment takes the sold unit out of the locked ones: %d → %d", lockedBefore, locked)
		}
	})
}

// TestFlashSaleUnpaidUnitsGoBack: an expired claim and a cancelled flash
// order both give their units back to the sale; after the sale ends, what
// is left goes back to the SKU.
func TestFlashSaleUnpaidUnitsGoBack(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		e.setStock(a, 100)
		sale := e.newSale(a, "回补秒杀", 2, time.Now())
		ctx := context.Background()
		c := e.srv.Promos.Claimer
		m := e.addMembers(a, 3)
		for _, id := range m[:2] {
			tok, _, _ := c.Token(ctx, a.id, sale, id)
			if _, err := c.Claim(ctx, a.id, sale, id, 1, tok); err != nil {
				t.Fatal(err)
			}
		}
		tok, _, _ := c.Token(ctx, a.id, sale, m[2])
		if _, err := c.Claim(ctx, a.id, sale, m[2], 1, tok); !errs.Is(err, "sold_out") {
			t.Fatalf("third buyer: %v", err)
		}
		// The first claim's payment window passes.
		if _, err := e.srv.DB.Exec(ctx, `UPDATE flash_claims SET expires_at = 0 WHERE sale_id = ? AND member_id = ?`, sale, m[0]); err != nil {
			t.Fatal(err)
		}
		if n, err := e.srv.Promos.ExpireClaims(ctx); err != nil || n != 1 {
			t.Fatalf("expired %d claims: %v", n, err)
		}
		if left := e.saleRemaining(sale); left != 1 {
			t.Fatalf("remaining after expiry = %d, want 1", left)
		}
		time.Sleep(1100 * time.Millisecond) // the sold-out recheck
		tok, _, _ = c.Token(ctx, a.id, sale, m[2])
		if _, err := c.Claim(ctx, a.id, sale, m[2], 1, tok); err != nil {
			t.Fatalf("the returned unit must sell again: %v", err)
		}

		// A flash order cancelled by its buyer gives its unit back.
		tokA := e.must(a.member, 200, "GET", fmt.Sprintf("/api/v1/flash-sales/%d/token", sale), nil)["token"]
		if r := e.do(a.member, "POST", fmt.Sprintf("/api/v1/flash-sales/%d/claim", sale), map[string]any{"token": tokA}); r.code() != "sold_out" {
			t.Fatalf("sold out again: %d %s", r.status, r.body)
		}
		var claimID int64
		e.srv.DB.QueryRow(ctx, `SELECT id FROM flash_claims WHERE sale_id = ? AND member_id = ? AND status = 'held'`, sale, m[1]).Scan(&claimID)
		buyer := e.memberToken(a, m[1])
		r := e.withHeader("Idempotency-Key", "flash-cancel-1").do(buyer, "POST", "/api/v1/orders",
			map[string]any{"flash_claim_id": claimID, "address": testAddress})
		if r.status != 201 {
			t.Fatalf("order: %d %s", r.status, r.body)
		}
		orderID := int64(r.json(t)["id"].(float64))
		stockBefore, lockedBefore := e.skuStock(a)
		e.must(buyer, 200, "POST", fmt.Sprintf("/api/v1/orders/%d/cancel", orderID), map[string]any{})
		if left := e.saleRemaining(sale); left != 1 {
			t.Fatalf("remaining after the cancel = %d, want 1", left)
		}
		if stock, locked := e.skuStock(a); stock != stockBefore || locked != lockedBefore {
			t.Fatalf("a cancelled flash order must not touch the SKU's stock: %d/%d → %d/%d", stockBefore, lockedBefore, stock, locked)
		}

		// The sale ends: its unsold unit goes back to the SKU.
		if _, err := e.srv.DB.Exec(ctx, `UPDATE flash_sales SET starts_at = 0, ends_at = 1 WHERE id = ?`, sale); err != nil {
			t.Fatal(err)
		}
		if n, err := e.srv.Promos.SettleSales(ctx); err != nil || n != 1 {
			t.Fatalf("settled %d: %v", n, err)
		}
		stock, locked := e.skuStock(a)
		if stock != stockBefore+1 || locked != lockedBefore-1 {
			t.Fatalf("after settling: stock %d locked %d, want %d and %d", stock, locked, stockBefore+1, lockedBefore-1)
		}
		if e.saleRemaining(sale) != 0 {
			t.Fatal("a settled sale keeps no units")
		}
	})
}

// memberToken opens a session for a member created with addMembers.
func (e *env) memberToken(a testShop, memberID int64) caller {
	e.t.Helper()
	var openid string
	if err := e.srv.DB.QueryRow(context.Background(), `SELECT openid FROM members WHERE id = ?`, memberID).Scan(&openid); err != nil {
		e.t.Fatal(err)
	}
	c, id := e.memberLogin(a.appid, openid)
	if id != memberID {
		e.t.Fatalf("login as %s gave member %d, want %d", openid, id, memberID)
	}
	return c
}
