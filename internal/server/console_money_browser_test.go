package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// TestConsoleMoneyScreensInARealBrowser walks issue 11's money screens as
// a shop owner: the refunds needing attention (an abnormal one and one
// unfinished for two days, with how long and why) and their menu badge; the
// customer-service refund limit set in the console; refund requests, where
// approving one's own shows the API's refusal and approving customer
// service's makes the refund; the failed WeChat shipping reports, retried
// from the list, and the report on the order page; a withdrawal's decision
// log. Then customer service asks for approval from the order page. No
// console error.
func TestConsoleMoneyScreensInARealBrowser(t *testing.T) {
	chromiumPath(t) // skip (or fail where required) before starting a server
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil)
	ctx := context.Background()
	a := e.paidShop("甲")
	mchid := e.must(a.owner, 200, "GET", "/admin/api/v1/shop", nil)["mch_id"].(string)

	// Two refunds that need attention: one WeChat flags abnormal, one
	// still processing two days after it was asked for.
	refund := func(amount int) map[string]any {
		r := e.keyed().must(a.owner, 201, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/refunds", a.orderID), map[string]any{"amount": amount, "reason": "甲退款"})
		waitFor(t, "the refund accepted by WeChat", func() bool {
			e.runDueJobs("refund.submit")
			for _, x := range e.mustList(a.owner, fmt.Sprintf("/admin/api/v1/orders/%d/refunds", a.orderID)) {
				if x["id"] == r["id"] {
					return x["status"] == "processing"
				}
			}
			return false
		})
		return r
	}
	abnormal, slow := refund(1000), refund(500)
	if d, err := e.pay.CompleteRefund(ctx, mchid, abnormal["out_refund_no"].(string), "ABNORMAL"); err != nil || !d.Delivered {
		t.Fatalf("abnormal refund: %v %+v", err, d)
	}
	if _, err := e.srv.DB.Exec(ctx, `UPDATE refunds SET created_at = ? WHERE id = ?`, time.Now().Add(-50*time.Hour).UnixMilli(), slow["id"]); err != nil {
		t.Fatal(err)
	}
	if n := len(e.attention(a.owner)); n != 2 {
		t.Fatalf("%d refunds need attention, want 2", n)
	}

	// A second order shipped with a carrier WeChat does not know: its
	// report fails.
	shipped := e.wxPaidOrder(a)
	e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", shipped), map[string]any{"carrier": "火星快递", "tracking_no": "MARS000001"})
	waitFor(t, "the shipping report refused", func() bool {
		e.runDueJobs("wxshipping.upload")
		return e.shippingState(a.owner, shipped)["state"] == "failed"
	})

	// Customer service and the owner each ask for a refund above the limit.
	e.must(a.owner, 201, "POST", "/admin/api/v1/staff", map[string]any{"username": "service_" + a.appid, "password": "service-pass-1", "role": "service"})
	service := e.staffLogin("service_"+a.appid, "service-pass-1")
	fromService := e.must(service, 201, "POST", "/admin/api/v1/refund-requests", map[string]any{"order_id": a.orderID, "amount": 3000, "reason": "客服申请"})
	own := e.must(a.owner, 201, "POST", "/admin/api/v1/refund-requests", map[string]any{"order_id": a.orderID, "amount": 2000, "reason": "店主申请"})

	b := newBrowser(t, e.ts.URL)
	b.login("owner_"+a.appid, "owner-pass-1")
	b.run("badges", waitJS(`(document.querySelector('[data-badge="/refund-attention"]') || {}).textContent === '2' &&
		(document.querySelector('[data-badge="/refund-approvals"]') || {}).textContent === '2' &&
		(document.querySelector('[data-badge="/wechat-shipping"]') || {}).textContent === '1'`))

	// Needs attention: both refunds, how long, why.
	b.run("attention", click(`[data-nav="/refund-attention"]`), waitJS(`document.querySelectorAll('[data-test=attention] tbody tr').length === 2`))
	b.screenshot("refund-attention")
	list := b.text(`[data-test=attention] tbody`)
	for _, want := range []string{abnormal["out_refund_no"].(string), slow["out_refund_no"].(string), "异常", "abnormal", "2 天 2 小时", "still processing"} {
		if !strings.Contains(list, want) {
			t.Fatalf("the attention list lacks %q: %s", want, list)
		}
	}

	// The customer-service limit, set in the console.
	b.run("refund policy", click(`[data-nav="/refund-approvals"]`), waitJS(`document.querySelectorAll('[data-test=refund-requests] tbody tr').length === 2`),
		fill(`[data-test=service-limit]`, "20"), click(`[data-test=policy-save]`),
		waitJS(`[...document.querySelectorAll('.el-message')].some((m) => m.textContent.includes('已保存'))`))
	if p := e.must(a.owner, 200, "GET", "/admin/api/v1/refund-policy", nil); p["service_limit"] != float64(2000) {
		t.Fatalf("the refund policy after saving 20 yuan: %v", p)
	}
	// Approving one's own request: the API's refusal shows in the dialog.
	b.run("approve my own request", click(fmt.Sprintf(`[data-test=approve-%v]`, own["id"])), chromedp.WaitVisible(`[data-test=decision-submit]`, chromedp.ByQuery),
		click(`[data-test=decision-submit]`), chromedp.WaitVisible(`[data-test=decision-error]`, chromedp.ByQuery))
	b.screenshot("refund-approval-refused")
	if msg := b.text(`[data-test=decision-error]`); !strings.Contains(msg, "someone other than who filed it") {
		t.Fatalf("the refusal shown: %q", msg)
	}
	b.run("close the dialog", chromedp.KeyEvent("\x1b"), waitJS(`!document.querySelector('[data-test=decision-submit]') || document.querySelector('[data-test=decision-submit]').offsetParent === null`))
	// Approving customer service's request makes the refund.
	b.run("approve service's request", click(fmt.Sprintf(`[data-test=approve-%v]`, fromService["id"])),
		waitJS(`(() => { const i = document.querySelector('[data-test=decision-note]'); return i && i.offsetParent !== null && !document.querySelector('[data-test=decision-error]'); })()`),
		fill(`[data-test=decision-note]`, "核实无误"), click(`[data-test=decision-submit]`),
		waitJS(`document.querySelectorAll('[data-test=refund-requests] tbody tr').length === 1`),
		waitJS(`(document.querySelector('[data-badge="/refund-approvals"]') || {}).textContent === '1'`))
	reqs := e.must(a.owner, 200, "GET", "/admin/api/v1/refund-requests?status=approved", nil)["items"].([]any)
	if len(reqs) != 1 {
		t.Fatalf("approved requests: %v", reqs)
	}
	if r := reqs[0].(map[string]any); r["id"] != fromService["id"] || r["refund_id"] == nil || r["note"] != "核实无误" {
		t.Fatalf("the approved request: %v", r)
	}
	if r := e.must(a.owner, 200, "GET", "/admin/api/v1/refund-requests?status=pending", nil)["items"].([]any); len(r) != 1 {
		t.Fatalf("pending requests after one approval: %v", r)
	}

	// The failed shipping report, listed and retried.
	b.run("failed shipping reports", click(`[data-nav="/wechat-shipping"]`), waitJS(`document.querySelectorAll('[data-test=wx-shipping-failed] tbody tr').length === 1`))
	b.screenshot("wechat-shipping-failed")
	if row := b.text(`[data-test=wx-shipping-failed] tbody`); !strings.Contains(row, "上报失败") || !strings.Contains(row, "10060014") || !strings.Contains(row, "refused") {
		t.Fatalf("the failed report row: %s", row)
	}
	b.run("order page report", chromedp.Navigate(fmt.Sprintf("%s/admin/orders/%d", e.ts.URL, shipped)), chromedp.WaitVisible(`[data-test=wx-shipping-panel]`, chromedp.ByQuery))
	b.screenshot("order-wechat-shipping")
	if st := b.text(`[data-test=wx-shipping-state]`); st != "上报失败" {
		t.Fatalf("the order page's report state: %q", st)
	}
	if msg := b.text(`[data-test=wx-shipping-error]`); !strings.Contains(msg, "10060014") {
		t.Fatalf("the order page's report error: %q", msg)
	}
	before := e.shippingState(a.owner, shipped)["updated_at"]
	b.run("retry the report", click(`[data-test=wx-shipping-retry]`),
		waitJS(`document.querySelector('[data-test=wx-shipping-state]').textContent.trim() !== '上报失败'`))
	// The retry was taken (its report pending again). The job may already
	// have run it and failed again (the carrier is still unknown to WeChat),
	// so the state alone proves nothing: the report changed since.
	if st := e.shippingState(a.owner, shipped); st["updated_at"] == before {
		t.Fatalf("after retrying in the console the report is unchanged: %v", st)
	}

	// A withdrawal's decisions: the owner approves, the log names who.
	_, withdrawal := e.promoterWithWithdrawal(a)
	e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/withdrawals/%d/approve", withdrawal), map[string]any{"note": "同意提现"})
	b.run("withdrawal decisions", chromedp.Navigate(e.ts.URL+"/admin/distribution"), click(`#tab-withdrawals`),
		clickText(`.el-radio-button`, "待打款"), click(fmt.Sprintf(`[data-test=withdrawal-log-%d]`, withdrawal)),
		waitJS(`(document.querySelector('[data-test=withdrawal-decisions] tbody') || { textContent: '' }).textContent.includes('同意提现')`))
	if log := b.text(`[data-test=withdrawal-decisions] tbody`); !strings.Contains(log, "审批通过") || !strings.Contains(log, fmt.Sprintf("#%d", a.ownerID)) {
		t.Fatalf("the decision log: %s", log)
	}

	// Customer service: the limit is read-only, no decisions; above it,
	// the order page asks for approval.
	b.run("log out", click(`[data-test=user-menu]`), clickText(`.el-dropdown-menu__item`, "退出登录"), chromedp.WaitVisible(`[data-test=login-submit]`, chromedp.ByQuery))
	b.login("service_"+a.appid, "service-pass-1")
	b.run("service's approvals", chromedp.Navigate(e.ts.URL+"/admin/refund-approvals"), waitJS(`document.querySelectorAll('[data-test=refund-requests] tbody tr').length === 1`))
	if limit := b.text(`[data-test=service-limit-text]`); limit != "¥20.00" {
		t.Fatalf("the limit customer service sees: %q", limit)
	}
	var decide int
	b.run("no decisions for service", chromedp.Evaluate(`document.querySelectorAll('[data-test^=approve-], [data-test^=reject-], [data-test=policy-save]').length`, &decide))
	if decide != 0 {
		t.Fatalf("customer service sees %d decision buttons", decide)
	}
	b.run("ask for approval", chromedp.Navigate(fmt.Sprintf("%s/admin/orders/%d", e.ts.URL, a.orderID)), chromedp.WaitVisible(`[data-test=ask-approval]`, chromedp.ByQuery),
		click(`[data-test=ask-approval]`), chromedp.WaitVisible(`[data-test=ask-submit]`, chromedp.ByQuery),
		fill(`[data-test=ask-amount]`, "25"), fill(`[data-test=ask-reason]`, "买家退货"), click(`[data-test=ask-submit]`),
		waitJS(`[...document.querySelectorAll('.el-message')].some((m) => m.textContent.includes('已提交审批'))`))
	var asked map[string]any
	for _, r := range e.must(a.owner, 200, "GET", "/admin/api/v1/refund-requests?status=pending", nil)["items"].([]any) {
		if r.(map[string]any)["reason"] == "买家退货" {
			asked = r.(map[string]any)
		}
	}
	if asked == nil || asked["amount"] != float64(2500) || asked["order_id"] != float64(a.orderID) {
		t.Fatalf("the request customer service filed: %v", asked)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.dialogs) > 0 {
		t.Fatalf("dialogs %v", b.dialogs)
	}
	// Network errors are expected (the 401 before logging in, the 403 of
	// approving one's own request); script errors and CSP reports are not.
	for _, c := range b.console {
		if strings.Contains(c, "Content Security Policy") || strings.HasPrefix(c, "exception") || strings.HasPrefix(c, "console.error") {
			t.Errorf("browser console: %s", c)
		}
	}
}
