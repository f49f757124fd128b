package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kaidian/kaidian/internal/platform/db"
)

const xssCoupon = `<img src=x onerror=alert(1)>满减券`

// TestConsolePromotionsInARealBrowser walks the promotion and moderation
// screens: the owner creates a coupon (named to tempt an XSS), a flash sale
// and a group deal in the console, sees the API's and the form's errors
// next to their fields, finds them in their lists as text, and approves a
// buyer's comment held by a review rule.
func TestConsolePromotionsInARealBrowser(t *testing.T) {
	chromiumPath(t) // skip (or fail where required) before starting a server
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil)
	op := e.operator()
	a := e.newShop(op, "甲", "enterprise")
	b := newBrowser(t, e.ts.URL)
	b.login("owner_"+a.appid, "owner-pass-1")

	var menu string
	b.run("menu", chromedp.Text(`.layout-aside`, &menu, chromedp.ByQuery))
	for _, want := range []string{"营销", "秒杀", "拼团", "优惠券", "限时折扣", "分销", "内容审核", "审核队列", "敏感词规则", "版权投诉"} {
		if !strings.Contains(menu, want) {
			t.Fatalf("the owner's menu lacks %s: %q", want, menu)
		}
	}

	// A coupon: without an amount the API's error shows on the amount field;
	// with one it is created and listed, its name as text.
	b.run("new coupon", chromedp.Navigate(e.ts.URL+"/admin/coupons"), click(`[data-test=coupon-new]`),
		chromedp.WaitVisible(`[data-test=coupon-save]`, chromedp.ByQuery),
		fill(`[data-test=coupon-name]`, xssCoupon), fill(`[data-test=coupon-threshold]`, "50"),
		click(`[data-test=coupon-save]`),
		waitJS(`(() => { const f = document.querySelector('[data-test=coupon-amount]').closest('.el-form-item'); return f.classList.contains('is-error') && f.querySelector('.el-form-item__error'); })()`))
	b.screenshot("coupon-editor")
	b.run("save the coupon", fill(`[data-test=coupon-amount]`, "10"), click(`[data-test=coupon-save]`),
		waitJS(`document.querySelectorAll('.coupon-name').length === 1`))
	b.screenshot("coupons")
	if got := b.text(`.coupon-name`); got != xssCoupon {
		t.Fatalf("the coupon list shows %q", got)
	}
	coupons := e.mustList(a.owner, "/admin/api/v1/coupons")
	if len(coupons) != 1 || coupons[0]["name"] != xssCoupon || coupons[0]["amount"] != float64(1000) || coupons[0]["threshold"] != float64(5000) ||
		coupons[0]["valid_days"] != float64(7) {
		t.Fatalf("the saved coupon: %v", coupons)
	}
	// Given to a member: an unknown member id is the API's error on its field.
	couponID := id(coupons[0])
	b.run("grant the coupon", click(fmt.Sprintf(`[data-test=coupon-grant-%d]`, couponID)), chromedp.WaitVisible(`[data-test=grant-submit]`, chromedp.ByQuery),
		fill(`[data-test=grant-member]`, "999999"), click(`[data-test=grant-submit]`),
		waitJS(`document.querySelector('[data-test=grant-member]').closest('.el-form-item').classList.contains('is-error')`),
		fill(`[data-test=grant-member]`, fmt.Sprint(a.memberID)), click(`[data-test=grant-submit]`),
		waitJS(`[...document.querySelectorAll('[data-test=coupons] .el-table__body td')].some((td) => td.textContent.trim() === '1 / 100')`))
	if w := e.mustList(a.member, "/api/v1/me/coupons"); len(w) != 1 || w[0]["source"] != "grant" {
		t.Fatalf("the member's wallet: %v", w)
	}
	b.run("coupon results", click(`.coupon-name`), chromedp.WaitVisible(`[data-test=coupon-results]`, chromedp.ByQuery))

	// A flash sale of the shop's first SKU: more units than in stock is the
	// API's error on the quantity field.
	b.run("new flash sale", chromedp.Navigate(e.ts.URL+"/admin/flash-sales"), click(`[data-test=flash-new]`),
		chromedp.WaitVisible(`[data-test=flash-save]`, chromedp.ByQuery),
		pick(`[data-test=sku-product]`, `.el-select-dropdown__item`, "甲连衣裙"),
		pick(`[data-test=sku-sku]`, `.el-select-dropdown__item`, "蓝 / M"),
		fill(`[data-test=flash-title]`, "E2E秒杀 <b>限量</b>"), fill(`[data-test=flash-price]`, "49.9"),
		fill(`[data-test=flash-quantity]`, "1000"), click(`[data-test=flash-save]`),
		waitJS(`(() => { const f = document.querySelector('[data-test=flash-quantity]').closest('.el-form-item'); return f.classList.contains('is-error'); })()`),
		fill(`[data-test=flash-quantity]`, "5"), click(`[data-test=flash-save]`),
		waitJS(`document.querySelectorAll('.flash-title').length === 1`))
	b.screenshot("flash-sales")
	if got := b.text(`.flash-title`); got != "E2E秒杀 <b>限量</b>" {
		t.Fatalf("the flash-sale list shows %q", got)
	}
	sales := e.mustList(a.owner, "/admin/api/v1/flash-sales")
	if len(sales) != 1 || sales[0]["price"] != float64(4990) || sales[0]["quantity"] != float64(5) || sales[0]["sku_id"] == float64(a.skuID) {
		t.Fatalf("the saved sale: %v", sales)
	}
	b.run("flash-sale results", click(`.flash-title`), chromedp.WaitVisible(`[data-test=flash-results]`, chromedp.ByQuery))

	// A group deal: tiers whose price rises with the size are refused on the
	// tiers field before anything is sent; corrected, the deal is created.
	b.run("new group deal", chromedp.Navigate(e.ts.URL+"/admin/group-deals"), click(`[data-test=deal-new]`),
		chromedp.WaitVisible(`[data-test=deal-save]`, chromedp.ByQuery),
		pick(`[data-test=sku-product]`, `.el-select-dropdown__item`, "甲连衣裙"),
		pick(`[data-test=sku-sku]`, `.el-select-dropdown__item`, "红 / L"),
		fill(`[data-test=deal-title]`, "E2E拼团"), fill(`[data-test=tier-price-0]`, "99"),
		click(`[data-test=tier-add]`), fill(`[data-test=tier-size-1]`, "3"), fill(`[data-test=tier-price-1]`, "120"),
		click(`[data-test=deal-save]`),
		waitJS(`document.querySelector('[data-test=tiers]').closest('.el-form-item').classList.contains('is-error')`))
	b.screenshot("group-deal-editor")
	b.run("save the group deal", fill(`[data-test=tier-price-1]`, "79"), click(`[data-test=deal-save]`),
		waitJS(`document.querySelectorAll('.deal-title').length === 1`))
	deals := e.mustList(a.owner, "/admin/api/v1/group-deals")
	if len(deals) != 1 || fmt.Sprint(deals[0]["tiers"]) != "[map[price:9900 size:2] map[price:7900 size:3]]" {
		t.Fatalf("the saved deal: %v", deals)
	}
	b.run("deal results", click(`.deal-title`), chromedp.WaitVisible(`[data-test=deal-results]`, chromedp.ByQuery))
	// A buyer opens a group; its page lists the leader.
	groupID, _ := e.openGroup(a.member, id(deals[0]), "e2e-console-group")
	b.run("group", fill(`[data-test=group-id]`, fmt.Sprint(groupID)), click(`[data-test=group-open]`),
		waitJS(`document.querySelectorAll('[data-test=group-members] .el-table__body tr').length === 1`),
		waitJS(`document.querySelector('[data-test=group-status]').textContent.includes('拼团中')`))

	// Withdrawals: approve, then record the payout, whose reference is required.
	_, withdrawalID := e.promoterWithWithdrawal(a)
	b.run("approve a withdrawal", chromedp.Navigate(e.ts.URL+"/admin/distribution"), click(`#tab-withdrawals`),
		waitJS(`document.querySelectorAll('[data-test=withdrawals] .el-table__body tr').length === 1`),
		clickText(`[data-test=withdrawals] button`, "通过"), chromedp.WaitVisible(`[data-test=withdrawal-submit]`, chromedp.ByQuery),
		click(`[data-test=withdrawal-submit]`),
		waitJS(`document.querySelectorAll('[data-test=withdrawals] .el-table__body tr').length === 0`))
	b.run("pay a withdrawal", clickText(`.el-radio-button`, "待打款"),
		waitJS(`document.querySelectorAll('[data-test=withdrawals] .el-table__body tr').length === 1`),
		clickText(`[data-test=withdrawals] button`, "登记打款"), chromedp.WaitVisible(`[data-test=withdrawal-reference]`, chromedp.ByQuery),
		click(`[data-test=withdrawal-submit]`),
		waitJS(`document.querySelector('[data-test=withdrawal-reference]').closest('.el-form-item').classList.contains('is-error')`),
		fill(`[data-test=withdrawal-reference]`, "WX-E2E-0001"), click(`[data-test=withdrawal-submit]`),
		waitJS(`document.querySelectorAll('[data-test=withdrawals] .el-table__body tr').length === 0`))
	if ws := e.mustList(a.owner, "/admin/api/v1/withdrawals?status=paid"); len(ws) != 1 || id(ws[0]) != withdrawalID || ws[0]["reference"] != "WX-E2E-0001" {
		t.Fatalf("paid withdrawals: %v", ws)
	}

	// The moderation queue: a buyer's comment held by a review rule is
	// approved in the console and published.
	e.must(a.owner, 201, "POST", "/admin/api/v1/moderation/rules", map[string]any{"word": "审核词", "category": "ads", "level": "review"})
	item := e.must(a.member, 201, "POST", "/api/v1/contents", map[string]any{"kind": "comment", "target": "product:1",
		"text": "这里有审核词 <img src=x onerror=alert(4)>"})
	if item["status"] != "pending" {
		t.Fatalf("the comment: %v", item)
	}
	b.run("review queue", chromedp.Navigate(e.ts.URL+"/admin/moderation/queue"),
		waitJS(`document.querySelectorAll('[data-test=queue] .el-table__body tr').length === 1`))
	b.screenshot("moderation-queue")
	if got := b.text(`.item-text`); !strings.Contains(got, "<img src=x") {
		t.Fatalf("the queue shows %q", got)
	}
	b.run("approve", click(fmt.Sprintf(`[data-test=approve-%d]`, id(item))),
		waitJS(`document.querySelectorAll('[data-test=queue] .el-table__body tr').length === 0`))
	if got := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/moderation/items/%d", id(item)), nil); got["status"] != "published" {
		t.Fatalf("after approving: %v", got["status"])
	}

	// A rule file with a bad line reports it and imports nothing; fixed, it imports.
	b.run("import rules", chromedp.Navigate(e.ts.URL+"/admin/moderation/rules"), click(`[data-test=rule-import]`),
		chromedp.WaitVisible(`[data-test=rule-import-run]`, chromedp.ByQuery),
		fill(`[data-test=rule-text]`, "导入词\tads\treview\n坏行\tads\tnope"), click(`[data-test=rule-import-run]`),
		waitJS(`document.querySelector('[data-test=rule-import-errors]') && document.querySelector('[data-test=rule-import-errors]').textContent.includes('第 2 行')`),
		fill(`[data-test=rule-text]`, "导入词\tads\treview"), click(`[data-test=rule-import-run]`),
		waitJS(`document.querySelector('.el-alert--success') !== null`),
		waitJS(`document.querySelector('[data-test=rules]').textContent.includes('导入词')`))

	// Every other new screen opens.
	for _, path := range []string{"timed-discounts", "distribution", "moderation/rules", "moderation/complaints", "moderation/bans", "moderation/decisions"} {
		b.run("open "+path, chromedp.Navigate(e.ts.URL+"/admin/"+path), chromedp.WaitVisible(`.page .card`, chromedp.ByQuery),
			waitJS(`!document.querySelector('.el-loading-mask')`))
	}
	var decisions string
	b.run("decision log", chromedp.Text(`[data-test=decisions]`, &decisions, chromedp.ByQuery))
	if !strings.Contains(decisions, "通过") {
		t.Fatalf("the decision log: %q", decisions)
	}

	var injected int
	b.run("injected nodes", chromedp.Navigate(e.ts.URL+"/admin/coupons"), waitJS(`document.querySelectorAll('.coupon-name').length === 1`),
		chromedp.Evaluate(`document.querySelectorAll('img[src="x"], script:not([src])').length`, &injected))
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.dialogs) > 0 || injected > 0 {
		t.Fatalf("user text ran as script: dialogs %v, injected nodes %d", b.dialogs, injected)
	}
	for _, c := range b.console {
		if strings.Contains(c, "Content Security Policy") || strings.HasPrefix(c, "exception") || strings.HasPrefix(c, "console.error") {
			t.Errorf("browser console: %s", c)
		}
	}
	if len(b.console) > 0 {
		t.Logf("browser console: %s", strings.Join(b.console, "\n"))
	}
}
