package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

// payOrder pays an order through the WeChat Pay sandbox and waits for it.
func (e *env) payOrder(a testShop, buyer caller, orderID int64) {
	e.t.Helper()
	if d, err := e.pay.PayWithParams(context.Background(), a.appid, e.payParams(buyer, orderID)); err != nil || !d.Delivered {
		e.t.Fatalf("pay order %d: %v %+v", orderID, err, d)
	}
}

// buyers logs in n more buyers of shop a.
func (e *env) buyers(a testShop, n int, tag string) []caller {
	e.t.Helper()
	out := make([]caller, n)
	for i := range out {
		out[i], _ = e.memberLogin(a.appid, fmt.Sprintf("%s-%d", tag, i))
	}
	return out
}

// groupRefunds lists the refunds of the orders, by order.
func (e *env) groupRefunds(a testShop, orders []int64) map[int64][]int64 {
	e.t.Helper()
	out := map[int64][]int64{}
	for _, id := range orders {
		for _, r := range e.mustList(a.owner, fmt.Sprintf("/admin/api/v1/orders/%d/refunds", id)) {
			out[id] = append(out[id], int64(r["amount"].(float64)))
		}
	}
	return out
}

func (e *env) expireGroup(groupID int64) {
	e.t.Helper()
	if _, err := e.srv.DB.Exec(context.Background(), `UPDATE group_buys SET expires_at = 1 WHERE id = ?`, groupID); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.srv.Promos.CloseDueGroups(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// TestGroupClosesAtItsTierAndRefundsTheDifferenceOnce: three members pay
// ¥99 each; the group closes at the 3-person tier (¥79): each gets ¥20
// back through the sandbox, once, however often the group is settled.
func TestGroupClosesAtItsTierAndRefundsTheDifferenceOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.enablePay(op, a, paysandbox.KeyModePublicKey)
		deal := e.newDeal(a, "三人团", false)
		group, leaderOrder := e.openGroup(a.member, deal, "group-open-1")
		others := e.buyers(a, 3, "joiner")
		orders := []int64{leaderOrder}
		for i, b := range others[:2] {
			orders = append(orders, e.joinGroup(b, group, fmt.Sprintf("group-join-%d", i)))
		}
		unpaid := e.joinGroup(others[2], group, "group-join-unpaid")
		if r := e.withHeader("Idempotency-Key", "group-join-again").do(others[0], "POST", "/api/v1/orders",
			map[string]any{"group_id": group, "address": testAddress}); r.status != 409 || r.code() != "already_in_group" {
			t.Fatalf("joining twice: %d %s", r.status, r.body)
		}
		e.payOrder(a, a.member, leaderOrder)
		for i, b := range others[:2] {
			e.payOrder(a, b, orders[i+1])
		}
		view := e.must(caller{appid: a.appid}, 200, "GET", fmt.Sprintf("/api/v1/groups/%d", group), nil)
		if view["paid_members"].(float64) != 3 || view["missing_to_next"].(float64) != 1 || len(view["members"].([]any)) != 4 || view["seconds_left"].(float64) <= 0 {
			t.Fatalf("group view = %v", view)
		}

		e.expireGroup(group)
		e.expireGroup(group) // settling again changes nothing
		if err := e.srv.Promos.SettleGroup(context.Background(), a.id, group); err != nil {
			t.Fatal(err)
		}
		refunds := e.groupRefunds(a, orders)
		for _, id := range orders {
			if got := refunds[id]; len(got) != 1 || got[0] != 2000 {
				t.Fatalf("order %d refunds = %v, want one of 2000 fen", id, got)
			}
		}
		if st := e.orderStatus(a.owner, unpaid); st != "cancelled" {
			t.Fatalf("the unpaid seat's order is %s, want cancelled", st)
		}
		// The server's own job loop may hold a submission while runDueJobs
		// looks, so wait for all three rather than read once.
		var sent int
		waitFor(t, "3 group refunds at the sandbox", func() bool {
			e.runDueJobs("refund.submit")
			e.srv.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM refunds WHERE shop_id = ? AND status IN ('processing','succeeded')`, a.id).Scan(&sent)
			return sent == 3
		})
		res := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/group-deals/%d", deal), nil)
		if res["succeeded"].(float64) != 1 || res["paid_members"].(float64) != 3 || res["refunded_total"].(float64) != 6000 || res["gmv"].(float64) != 3*7900 {
			t.Fatalf("deal results = %v", res)
		}
		closed := e.must(caller{appid: a.appid}, 200, "GET", fmt.Sprintf("/api/v1/groups/%d", group), nil)
		if closed["status"] != "succeeded" || closed["tier_price"].(float64) != 7900 {
			t.Fatalf("closed group = %v", closed)
		}
	})
}

func TestFullGroupSettlesAtOnceAndFailedGroupRefundsAll(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.setStock(a, 100)
		e.enablePay(op, a, paysandbox.KeyModePublicKey)
		deal := e.newDeal(a, "四人团", false)
		group, first := e.openGroup(a.member, deal, "full-open")
		others := e.buyers(a, 3, "full")
		orders := []int64{first}
		for i, b := range others {
			orders = append(orders, e.joinGroup(b, group, fmt.Sprintf("full-join-%d", i)))
		}
		late, _ := e.memberLogin(a.appid, "too-late")
		if r := e.withHeader("Idempotency-Key", "full-join-late").do(late, "POST", "/api/v1/orders",
			map[string]any{"group_id": group, "address": testAddress}); r.status != 409 || r.code() != "group_full" {
			t.Fatalf("a fifth seat in a group of four: %d %s", r.status, r.body)
		}
		e.payOrder(a, a.member, first)
		for i, b := range others {
			e.payOrder(a, b, orders[i+1])
		}
		e.runDueJobs("group.settle")
		for id, got := range e.groupRefunds(a, orders) {
			if len(got) != 1 || got[0] != 4000 {
				t.Fatalf("order %d refunds %v, want one of 4000 (¥99 → ¥59)", id, got)
			}
		}

		lonely, lonelyOrder := e.openGroup(late, deal, "lonely-open")
		e.payOrder(a, late, lonelyOrder)
		e.expireGroup(lonely)
		if got := e.groupRefunds(a, []int64{lonelyOrder})[lonelyOrder]; len(got) != 1 || got[0] != 9900 {
			t.Fatalf("a failed group's member gets %v back, want all 9900", got)
		}
		if v := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/groups/%d", lonely), nil); v["status"] != "failed" {
			t.Fatalf("group = %v", v)
		}
	})
}

func TestVirtualMembersCompleteAGroup(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.enablePay(op, a, paysandbox.KeyModePublicKey)
		deal := e.newDeal(a, "模拟成团", true)
		group, order := e.openGroup(a.member, deal, "virtual-open")
		e.payOrder(a, a.member, order)
		e.expireGroup(group)
		v := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/groups/%d", group), nil)
		if v["status"] != "succeeded" || v["virtual_members"].(float64) != 1 || v["tier_price"].(float64) != 9900 {
			t.Fatalf("virtual group = %v", v)
		}
		if got := e.groupRefunds(a, []int64{order})[order]; len(got) != 0 {
			t.Fatalf("a group completed at its smallest tier refunds nothing, got %v", got)
		}
		if res := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/group-deals/%d", deal), nil); res["virtual"].(float64) != 1 {
			t.Fatalf("staff see the virtual group: %v", res)
		}
	})
}

func TestLastSeatGoesToOneBuyer(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		e.setStock(a, 100)
		deal := e.newDeal(a, "抢最后一席", false)
		group, _ := e.openGroup(a.member, deal, "seat-open")
		bs := e.buyers(a, 8, "seat")
		e.joinGroup(bs[0], group, "seat-join-0")
		e.joinGroup(bs[1], group, "seat-join-1")
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := map[int]int{}
		for i, b := range bs[2:] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.withHeader("Idempotency-Key", fmt.Sprintf("seat-race-%d", i)).do(b, "POST", "/api/v1/orders",
					map[string]any{"group_id": group, "address": testAddress})
				mu.Lock()
				got[r.status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if got[201] != 1 || got[409] != 5 {
			t.Fatalf("6 buyers for the last seat: %v", got)
		}
		if r := e.withHeader("Idempotency-Key", "group-coupon").do(bs[0], "POST", "/api/v1/orders",
			map[string]any{"group_deal_id": deal, "member_coupon_id": 1, "address": testAddress}); r.status != 400 {
			t.Fatalf("a coupon on a group order: %d %s", r.status, r.body)
		}
	})
}

// TestGroupsFallingDueTogetherSettleOnceEach: more groups than share one
// settlement transaction fall due at once; one call settles them all,
// refunds every paid member in full exactly once, and cancels the unpaid
// seat of one of them.
func TestGroupsFallingDueTogetherSettleOnceEach(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.setStock(a, 100)
		e.enablePay(op, a, paysandbox.KeyModePublicKey)
		deal := e.newDeal(a, "一起到期", false)
		const n = 40 // settleBatch is 32
		leaders := e.buyers(a, n, "due-together")
		var groups, orders []int64
		for i, b := range leaders {
			g, o := e.openGroup(b, deal, fmt.Sprintf("due-open-%d", i))
			e.payOrder(a, b, o)
			groups, orders = append(groups, g), append(orders, o)
		}
		joiner, _ := e.memberLogin(a.appid, "due-unpaid")
		unpaid := e.joinGroup(joiner, groups[n-1], "due-join-unpaid")
		if _, err := e.srv.DB.Exec(context.Background(), `UPDATE group_buys SET expires_at = 1 WHERE deal_id = ?`, deal); err != nil {
			t.Fatal(err)
		}
		closed, err := e.srv.Promos.CloseDueGroups(context.Background())
		if err != nil || closed != n {
			t.Fatalf("closed %d groups (%v), want %d", closed, err, n)
		}
		if again, err := e.srv.Promos.CloseDueGroups(context.Background()); err != nil || again != 0 {
			t.Fatalf("closing again closed %d (%v)", again, err)
		}
		for id, got := range e.groupRefunds(a, orders) {
			if len(got) != 1 || got[0] != 9900 {
				t.Fatalf("order %d refunds %v, want one of 9900", id, got)
			}
		}
		if st := e.orderStatus(a.owner, unpaid); st != "cancelled" {
			t.Fatalf("the unpaid seat's order is %s, want cancelled", st)
		}
		var failed int
		e.srv.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM group_buys WHERE deal_id = ? AND status = 'failed'`, deal).Scan(&failed)
		if failed != n {
			t.Fatalf("%d groups failed, want %d", failed, n)
		}
	})
}
