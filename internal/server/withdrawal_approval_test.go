package server_test

import (
	"fmt"
	"sync"
	"testing"
)

// approvers adds two operations staff to shop a (they may decide on
// withdrawals) and returns them with their account ids.
func (e *env) approvers(a testShop) (first, second caller, firstID, secondID int64) {
	e.t.Helper()
	ids := [2]int64{}
	for i, name := range []string{"ops_one", "ops_two"} {
		s := e.must(a.owner, 201, "POST", "/admin/api/v1/staff", map[string]any{"username": name, "password": "role-pass-1", "role": "operations"})
		ids[i] = int64(s["id"].(float64))
	}
	return e.staffLogin("ops_one", "role-pass-1"), e.staffLogin("ops_two", "role-pass-1"), ids[0], ids[1]
}

// decisionsOf reads a withdrawal's decision log as "action:staff" pairs.
func (e *env) decisionsOf(a testShop, id int64) []string {
	e.t.Helper()
	var out []string
	for _, d := range e.mustList(a.owner, fmt.Sprintf("/admin/api/v1/withdrawals/%d/decisions", id)) {
		out = append(out, fmt.Sprintf("%v:%v", d["action"], d["staff_id"]))
	}
	return out
}

// TestWithdrawalAboveLimitNeedsTwoApprovers: the owner sets a withdrawal
// limit; at or below it one approval pays as before; above it one approval
// does not allow the payout, the same person cannot approve twice, and a
// second person completes it. Every decision is logged with who made it.
func TestWithdrawalAboveLimitNeedsTwoApprovers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		_, big := e.promoterWithWithdrawal(a) // 5000 available, 2000 asked for
		ops1, ops2, ops1ID, ops2ID := e.approvers(a)
		if r := e.do(ops1, "PUT", "/admin/api/v1/withdrawal-policy", map[string]any{"approval_limit": 100000}); r.status != 403 {
			t.Fatalf("operations staff setting the withdrawal limit: %d %s", r.status, r.body)
		}
		if r := e.do(a.owner, "PUT", "/admin/api/v1/withdrawal-policy", map[string]any{"approval_limit": -1}); r.status != 400 {
			t.Fatalf("a negative limit: %d %s", r.status, r.body)
		}
		e.must(a.owner, 200, "PUT", "/admin/api/v1/withdrawal-policy", map[string]any{"approval_limit": 1000})
		if p := e.must(ops1, 200, "GET", "/admin/api/v1/withdrawal-policy", nil); p["approval_limit"] != float64(1000) {
			t.Fatalf("policy: %v", p)
		}

		path := func(id int64, action string) string {
			return fmt.Sprintf("/admin/api/v1/withdrawals/%d/%s", id, action)
		}
		w := e.must(ops1, 200, "POST", path(big, "approve"), map[string]any{"note": "核对无误"})
		if w["status"] != "requested" || w["first_approved_by"] != float64(ops1ID) || w["approvals_needed"] != float64(1) {
			t.Fatalf("2000 above a 1000 limit after one approval: %v", w)
		}
		if r := e.do(a.owner, "POST", path(big, "pay"), map[string]any{"reference": "WX-1"}); r.status != 409 || r.code() != "withdrawal_needs_second_approval" {
			t.Fatalf("paying after one approval above the limit: %d %s", r.status, r.body)
		}
		if r := e.do(ops1, "POST", path(big, "approve"), map[string]any{}); r.status != 403 || r.code() != "second_approver_required" {
			t.Fatalf("the first approver approving again: %d %s", r.status, r.body)
		}
		w = e.must(ops2, 200, "POST", path(big, "approve"), map[string]any{"note": "复核"})
		if w["status"] != "approved" || w["approvals_needed"] != float64(0) {
			t.Fatalf("after a second person's approval: %v", w)
		}
		e.must(a.owner, 200, "POST", path(big, "pay"), map[string]any{"reference": "WX-1"})
		want := fmt.Sprint([]string{fmt.Sprintf("first_approval:%d", ops1ID), fmt.Sprintf("approve:%d", ops2ID), fmt.Sprintf("pay:%d", a.ownerID)})
		if got := fmt.Sprint(e.decisionsOf(a, big)); got != want {
			t.Fatalf("decision log %s, want %s", got, want)
		}

		// At the limit one approval suffices, as before.
		small := int64(e.must(a.member, 201, "POST", "/api/v1/me/withdrawals", map[string]any{"amount": 1000})["id"].(float64))
		if w := e.must(ops1, 200, "POST", path(small, "approve"), map[string]any{}); w["status"] != "approved" {
			t.Fatalf("1000 at a 1000 limit after one approval: %v", w)
		}
		e.must(ops1, 200, "POST", path(small, "pay"), map[string]any{"reference": "WX-2"})
		acct := e.promoter(a.member)
		if acct["paid_out"] != float64(3000) || acct["withdrawing"] != float64(0) || acct["available"] != float64(2000) {
			t.Fatalf("balances: %v", acct)
		}
	})
}

// TestConcurrentWithdrawalApprovalsCountOnce: two staff approving an
// above-limit withdrawal many times at once. However the requests
// interleave, each success is one logged decision, the first approver never
// counts twice, and the withdrawal is approved only by two different people.
func TestConcurrentWithdrawalApprovalsCountOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		_, id := e.promoterWithWithdrawal(a)
		ops1, ops2, ops1ID, _ := e.approvers(a)
		e.must(a.owner, 200, "PUT", "/admin/api/v1/withdrawal-policy", map[string]any{"approval_limit": 1000})
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := map[int]int{}
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				who := []caller{ops1, ops2}[i%2]
				r := e.do(who, "POST", fmt.Sprintf("/admin/api/v1/withdrawals/%d/approve", id), map[string]any{})
				mu.Lock()
				got[r.status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if got[200]+got[403]+got[409] != 8 || got[200] < 1 || got[200] > 2 {
			t.Fatalf("8 approvals at once: %v", got)
		}
		log := e.mustList(a.owner, fmt.Sprintf("/admin/api/v1/withdrawals/%d/decisions", id))
		if len(log) != got[200] || log[0]["action"] != "first_approval" {
			t.Fatalf("%d successes, decision log %v", got[200], log)
		}
		w := e.mustList(a.owner, "/admin/api/v1/withdrawals")[0]
		if w["first_approved_by"] != log[0]["staff_id"] {
			t.Fatalf("first approval %v, decision log %v", w["first_approved_by"], log)
		}
		switch w["status"] {
		case "approved":
			if len(log) != 2 || log[1]["action"] != "approve" || log[1]["staff_id"] == log[0]["staff_id"] {
				t.Fatalf("approved with decisions %v", log)
			}
		case "requested":
			if len(log) != 1 || w["approvals_needed"] != float64(1) {
				t.Fatalf("still requested: %v, decisions %v", w, log)
			}
			other := map[bool]caller{true: ops2, false: ops1}[log[0]["staff_id"] == float64(ops1ID)]
			if w := e.must(other, 200, "POST", fmt.Sprintf("/admin/api/v1/withdrawals/%d/approve", id), map[string]any{}); w["status"] != "approved" {
				t.Fatalf("the other person's approval: %v", w)
			}
		default:
			t.Fatalf("withdrawal after concurrent approvals: %v", w)
		}
	})
}
