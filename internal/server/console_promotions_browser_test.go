package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kaidian/kaidian/internal/platform/db"
)

const xssCoupon = `<img src=x onerror=alert(1)>满减券`

// TestConsolePromotionsInARealBrowser walks the promotion and moderation
// screens as a shop owner: coupons (one named to tempt an XSS, one percent
// with a fixed window; granted to a member), a flash sale, a time-limited
// price and a group deal created in the console, each with a bad value whose
// error shows next to its field, then found in their lists as text; a
// group's page; a withdrawal approved and paid out; a held comment approved,
// another's author banned and unbanned, a copyright complaint upheld; a rule
// file with a bad line. No dialog, injected node, console error or CSP report.
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
	// A percent coupon with a fixed window: 8.5 折 capped at 20 yuan.
	b.run("percent coupon", click(`[data-test=coupon-new]`), chromedp.WaitVisible(`[data-test=coupon-save]`, chromedp.ByQuery),
		fill(`[data-test=coupon-name]`, "八五折券"), clickText(`[data-test=coupon-kind] .el-radio-button`, "折扣"),
		chromedp.WaitVisible(`[data-test=coupon-rate]`, chromedp.ByQuery), fill(`[data-test=coupon-rate]`, "8.5"),
		fill(`[data-test=coupon-cap]`, "20"), clickText(`.el-dialog .el-radio`, "固定时间段"),
		click(`[data-test=coupon-save]`), waitJS(`document.querySelectorAll('.coupon-name').length === 2`))
	var percent map[string]any
	for _, c := range e.mustList(a.owner, "/admin/api/v1/coupons") {
		if c["name"] == "八五折券" {
			percent = c
		}
	}
	if percent == nil || percent["kind"] != "percent" || percent["rate_bp"] != float64(8500) || percent["cap"] != float64(2000) ||
		percent["valid_days"] != float64(0) || percent["valid_from"] == nil || percent["valid_until"] == nil {
		t.Fatalf("the percent coupon: %v", percent)
	}

	// A coupon for a category, picked from the category tree.
	b.run("category coupon", click(`[data-test=coupon-new]`), chromedp.WaitVisible(`[data-test=coupon-save]`, chromedp.ByQuery),
		fill(`[data-test=coupon-name]`, "分类券"), fill(`[data-test=coupon-amount]`, "5"), clickText(`.el-dialog .el-radio`, "指定分类"),
		pick(`[data-test=coupon-categories]`, `.el-tree-node__content`, "甲分类"), click(`[data-test=coupon-save]`),
		waitJS(`document.querySelectorAll('.coupon-name').length === 3`),
		waitJS(`[...document.querySelectorAll('[data-test=coupons] .el-table__body td')].some((td) => td.textContent.includes('指定分类') && td.textContent.includes('甲分类'))`))
	for _, c := range e.mustList(a.owner, "/admin/api/v1/coupons") {
		if c["name"] == "分类券" && (c["scope"] != "categories" || fmt.Sprint(c["scope_ids"]) != fmt.Sprintf("[%d]", a.categoryID)) {
			t.Fatalf("the category coupon: %v", c)
		}
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

	// A time-limited price must be below the SKU's (¥99): the API says so on the price field.
	b.run("new timed discount", chromedp.Navigate(e.ts.URL+"/admin/timed-discounts"), click(`[data-test=timed-new]`),
		chromedp.WaitVisible(`[data-test=timed-save]`, chromedp.ByQuery),
		pick(`[data-test=sku-product]`, `.el-select-dropdown__item`, "甲连衣裙"),
		pick(`[data-test=sku-sku]`, `.el-select-dropdown__item`, "红 / M"),
		fill(`[data-test=timed-title]`, "E2E限时价"), fill(`[data-test=timed-price]`, "120"), click(`[data-test=timed-save]`),
		waitJS(`document.querySelector('[data-test=timed-price]').closest('.el-form-item').classList.contains('is-error')`),
		fill(`[data-test=timed-price]`, "79"), click(`[data-test=timed-save]`),
		waitJS(`[...document.querySelectorAll('[data-test=timed-discounts] .el-table__body td')].some((td) => td.textContent.includes('E2E限时价'))`))
	if td := e.mustList(a.owner, "/admin/api/v1/timed-discounts"); len(td) != 1 || td[0]["price"] != float64(7900) {
		t.Fatalf("timed discounts: %v", td)
	}

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

	// Another held comment: its author is banned for 3 days, then the ban is lifted.
	other, otherID := e.memberLogin(a.appid, "openid-e2e-spammer")
	spam := e.must(other, 201, "POST", "/api/v1/contents", map[string]any{"kind": "comment", "text": "审核词广告"})
	b.run("ban", chromedp.Navigate(e.ts.URL+"/admin/moderation/queue"),
		waitJS(`document.querySelectorAll('[data-test=queue] .el-table__body tr').length === 1`),
		clickText(`[data-test=queue] button`, "封禁作者"), chromedp.WaitVisible(`[data-test=decide-submit]`, chromedp.ByQuery),
		fill(`[data-test=ban-days]`, "3"), click(`[data-test=decide-submit]`),
		// Without a reason the API's error shows on the reason field.
		waitJS(`document.querySelector('[data-test=decide-reason]').closest('.el-form-item').classList.contains('is-error')`),
		fill(`[data-test=decide-reason]`, "发广告"), click(`[data-test=decide-submit]`),
		waitJS(`document.querySelectorAll('[data-test=queue] .el-table__body tr').length === 0`))
	if r := e.do(other, "POST", "/api/v1/contents", map[string]any{"kind": "comment", "text": "你好"}); r.status < 400 {
		t.Fatalf("a banned buyer posted: %d %s", r.status, r.body)
	}
	b.run("lift the ban", chromedp.Navigate(e.ts.URL+"/admin/moderation/bans"),
		waitJS(fmt.Sprintf(`[...document.querySelectorAll('[data-test=bans] .el-table__body tr')].some((r) => r.textContent.includes('发广告') && r.textContent.includes('%d'))`, otherID)),
		clickText(`[data-test=bans] button`, "解封"), clickText(`.el-message-box__btns button`, "确定"),
		waitJS(`document.querySelectorAll('[data-test=bans] .el-table__body tr').length === 0`))
	if got := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/moderation/items/%d", id(spam)), nil); got["status"] != "rejected" {
		t.Fatalf("the banned author's comment: %v", got["status"])
	}

	// A copyright complaint against the published comment: taken down.
	c := e.must(caller{appid: a.appid}, 201, "POST", "/api/v1/complaints", map[string]any{"item_id": id(item), "reason": "抄袭了我的原创文案"})
	b.run("complaint", chromedp.Navigate(e.ts.URL+"/admin/moderation/complaints"),
		waitJS(`document.querySelectorAll('[data-test=complaints] .el-table__body tr').length === 1`),
		clickText(`[data-test=complaints] button`, "下架内容"), chromedp.WaitVisible(`[data-test=complaint-submit]`, chromedp.ByQuery),
		click(`[data-test=complaint-submit]`),
		waitJS(`document.querySelectorAll('[data-test=complaints] .el-table__body tr').length === 0`))
	if got := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/moderation/items/%d", id(item)), nil); got["status"] != "removed" {
		t.Fatalf("after the take-down: %v (complaint %v)", got["status"], c["id"])
	}

	// A rule file with a bad line reports it and imports nothing; fixed, it imports.
	b.run("import rules", chromedp.Navigate(e.ts.URL+"/admin/moderation/rules"), click(`[data-test=rule-import]`),
		chromedp.WaitVisible(`[data-test=rule-import-run]`, chromedp.ByQuery),
		fill(`[data-test=rule-text]`, "导入词\tads\treview\n坏行\tads\tnope"), click(`[data-test=rule-import-run]`),
		waitJS(`document.querySelector('[data-test=rule-import-errors]') && document.querySelector('[data-test=rule-import-errors]').textContent.includes('第 2 行')`),
		fill(`[data-test=rule-text]`, "导入词\tads\treview"), click(`[data-test=rule-import-run]`),
		waitJS(`document.querySelector('.el-alert--success') !== null`),
		waitJS(`document.querySelector('[data-test=rules]').textContent.includes('导入词')`))

	// The shop's WeChat content check is switched on from the rules screen;
	// exporting the rules raises no error.
	b.run("wechat check", click(`[data-test=wechat-check]`), clickText(`.toolbar button`, "导出 CSV"), chromedp.Sleep(300*time.Millisecond))
	waitFor(t, "wechat_check on", func() bool {
		return e.must(a.owner, 200, "GET", "/admin/api/v1/moderation/settings", nil)["wechat_check"] == true
	})

	// Every new screen opens, in Chinese and in English, with no message key
	// left untranslated (vue-i18n shows a missing key as itself).
	screens := []string{"flash-sales", "group-deals", "coupons", "timed-discounts", "distribution", "moderation/queue", "moderation/rules",
		"moderation/complaints", "moderation/bans", fmt.Sprintf("coupons/%d", couponID), fmt.Sprintf("flash-sales/%v", sales[0]["id"]),
		fmt.Sprintf("group-deals/%v", deals[0]["id"]), fmt.Sprintf("groups/%d", groupID), "moderation/decisions"}
	for _, locale := range []string{"en", "zh-CN"} {
		b.run("locale "+locale, chromedp.Evaluate(fmt.Sprintf(`localStorage.setItem('kaidian.locale', %q)`, locale), nil))
		for _, path := range screens {
			var key string
			b.run("open "+path+" in "+locale, chromedp.Navigate(e.ts.URL+"/admin/"+path), chromedp.WaitVisible(`.page .card, .page .kpis`, chromedp.ByQuery),
				waitJS(`!document.querySelector('.el-loading-mask')`),
				chromedp.Evaluate(`(document.querySelector('#app').innerText.match(/\b(promo|flash|group|coupon|timed|dist|mod|nav|common|import)\.[A-Za-z_]+/) || [''])[0]`, &key))
			if key != "" {
				t.Errorf("%s in %s shows the message key %s", path, locale, key)
			}
		}
	}
	var decisions string
	b.run("decision log", chromedp.Text(`[data-test=decisions]`, &decisions, chromedp.ByQuery))
	if !strings.Contains(decisions, "通过") {
		t.Fatalf("the decision log: %q", decisions)
	}

	// A finance clerk sees the promotions but none of the buttons that change
	// them, and no moderation screens.
	e.must(caller{token: op.token, shopID: a.id}, 201, "POST", "/admin/api/v1/staff",
		map[string]any{"username": "finance_" + a.appid, "password": "finance-pass-1", "role": "finance"})
	b.run("log out", chromedp.Navigate(e.ts.URL+"/admin/coupons"), click(`[data-test=user-menu]`), clickText(`.el-dropdown-menu__item`, "退出登录"),
		chromedp.WaitVisible(`[data-test=login-submit]`, chromedp.ByQuery))
	b.login("finance_"+a.appid, "finance-pass-1")
	b.run("finance menu", chromedp.Text(`.layout-aside`, &menu, chromedp.ByQuery))
	if !strings.Contains(menu, "优惠券") || strings.Contains(menu, "审核队列") {
		t.Fatalf("finance's menu: %q", menu)
	}
	var buttons int
	for _, path := range []string{"coupons", "flash-sales", "group-deals", "timed-discounts"} {
		b.run("finance "+path, chromedp.Navigate(e.ts.URL+"/admin/"+path), chromedp.WaitVisible(`.page .card`, chromedp.ByQuery),
			waitJS(`!document.querySelector('.el-loading-mask') && document.querySelectorAll('.el-table__body tr').length > 0`),
			chromedp.Evaluate(`document.querySelectorAll('[data-test$="-new"], [data-test^="coupon-grant"], [data-test^="coupon-disable"]').length`, &buttons))
		if buttons != 0 {
			t.Fatalf("finance sees %d buttons that change %s", buttons, path)
		}
	}
	b.run("finance withdrawals", chromedp.Navigate(e.ts.URL+"/admin/distribution"), click(`#tab-withdrawals`), clickText(`.el-radio-button`, "已打款"),
		waitJS(`document.querySelectorAll('[data-test=withdrawals] .el-table__body tr').length === 1`),
		chromedp.Evaluate(`document.querySelectorAll('[data-test=withdrawals] button, [data-test=dist-save]').length`, &buttons))
	if buttons != 0 {
		t.Fatalf("finance sees %d buttons on the distribution screen", buttons)
	}

	// The operator, acting on shop a, adds a word to the base list, which
	// only operators see.
	b.run("log out finance", click(`[data-test=user-menu]`), clickText(`.el-dropdown-menu__item`, "退出登录"),
		chromedp.WaitVisible(`[data-test=login-submit]`, chromedp.ByQuery),
		chromedp.Evaluate(fmt.Sprintf(`localStorage.setItem('kaidian.shop', '%d')`, a.id), nil))
	b.login("admin", operatorPassword)
	b.run("base rule", chromedp.Navigate(e.ts.URL+"/admin/moderation/rules"), waitJS(`(document.querySelector('[data-test=rules]') || { textContent: '' }).textContent.includes('导入词')`),
		clickText(`.el-radio-button`, "基础词库"), waitJS(`!(document.querySelector('[data-test=rules]') || { textContent: '' }).textContent.includes('导入词')`),
		click(`[data-test=rule-new]`), chromedp.WaitVisible(`[data-test=rule-save]`, chromedp.ByQuery),
		fill(`[data-test=rule-word]`, "基础E2E词"), fill(`[data-test=rule-category]`, "abuse"), click(`[data-test=rule-save]`),
		waitJS(`(document.querySelector('[data-test=rules]') || { textContent: '' }).textContent.includes('基础E2E词')`))
	base := e.do(caller{token: op.token, shopID: a.id}, "GET", "/admin/api/v1/moderation/rules?scope=base", nil)
	if base.status != 200 || !strings.Contains(string(base.body), "基础E2E词") {
		t.Fatalf("the base list: %d %s", base.status, base.body)
	}

	var injected int
	b.run("injected nodes", chromedp.Navigate(e.ts.URL+"/admin/coupons"), waitJS(`document.querySelectorAll('.coupon-name').length === 3`),
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
