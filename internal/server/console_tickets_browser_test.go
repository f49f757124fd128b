package server_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// TestConsoleTicketsInARealBrowser: a shop owner opens a ticket from the
// console, reads the operator's answer in it and closes it; the SLA shows
// but only the provider may save it; both languages leave no message key
// untranslated.
func TestConsoleTicketsInARealBrowser(t *testing.T) {
	chromiumPath(t)
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil)
	op := e.operator()
	a := e.newShop(op, "甲", "enterprise")
	b := newBrowser(t, e.ts.URL)
	b.login("owner_"+a.appid, "owner-pass-1")
	rows := `document.querySelectorAll('[data-test=tickets] .el-table__body tr').length`
	b.run("open a ticket", chromedp.Navigate(e.ts.URL+"/admin/tickets"), waitJS(`document.querySelector('[data-test=sla-policy]') !== null`),
		click(`[data-test=ticket-new]`), chromedp.WaitVisible(`[data-test=ticket-title]`, chromedp.ByQuery),
		fill(`[data-test=ticket-title]`, "首页打不开"), fill(`[data-test=ticket-body]`, "所有买家都看到白屏"),
		click(`[data-test=ticket-create]`), waitJS(rows+` === 1`))
	if n := b.text(`[data-test=sla-policy]`); n == "" {
		t.Fatal("no SLA shown")
	}
	var saveButtons int
	b.run("no save for the shop", chromedp.Evaluate(`document.querySelectorAll('[data-test=sla-save]').length`, &saveButtons))
	if saveButtons != 0 {
		t.Fatal("the shop may save the SLA")
	}
	list := e.must(a.owner, 200, "GET", "/admin/api/v1/tickets", nil)["items"].([]any)
	id := int64(list[0].(map[string]any)["id"].(float64))
	e.must(caller{token: op.token, shopID: a.id}, 201, "POST", fmt.Sprintf("/admin/api/v1/tickets/%d/messages", id), map[string]any{"body": "已定位，正在修复"})
	b.run("read the answer and close", chromedp.Navigate(e.ts.URL+"/admin/tickets"), waitJS(rows+` === 1`),
		click(`[data-test=tickets] .el-table__body tr`), waitJS(`document.querySelectorAll('[data-test^=ticket-message-]').length === 1`),
		click(`[data-test=ticket-closed]`))
	waitFor(t, "the ticket closed", func() bool {
		return e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/tickets/%d", id), nil)["status"] == "closed"
	})
	// A change request with the provider's estimate: the shop approves it from the console; the statement shows.
	provider := caller{token: op.token, shopID: a.id}
	e.must(provider, 200, "PUT", "/admin/api/v1/support-contract", map[string]any{"package_kind": "hours", "package_period": "month",
		"package_quota": 1, "package_price": 50000, "package_starts_at": "2026-01-01T00:00:00+08:00", "hourly_rate": 30000})
	change := e.must(a.owner, 201, "POST", "/admin/api/v1/tickets", map[string]any{"kind": "change", "priority": "p3", "title": "加会员价", "body": "九折"})
	cpath := fmt.Sprintf("/admin/api/v1/tickets/%v", change["id"])
	e.must(provider, 200, "POST", cpath+"/estimate", map[string]any{"minutes": 90})
	b.run("approve the estimate", chromedp.Navigate(e.ts.URL+"/admin/tickets"), waitJS(rows+` === 1`),
		waitJS(`document.querySelector('[data-test=ticket-statement]') !== null`),
		click(`[data-test=tickets] .el-table__body tr`), chromedp.WaitVisible(`[data-test=ticket-approve]`, chromedp.ByQuery),
		click(`[data-test=ticket-approve]`))
	waitFor(t, "the estimate approved", func() bool { return e.must(a.owner, 200, "GET", cpath, nil)["estimate_approved_at"] != nil })
	for _, locale := range []string{"en", "zh-CN"} {
		var key string
		b.run("locale "+locale, chromedp.Evaluate(fmt.Sprintf(`localStorage.setItem('kaidian.locale', %q)`, locale), nil),
			chromedp.Navigate(e.ts.URL+"/admin/tickets?x="+locale), waitJS(`document.querySelector('[data-test=ticket-report]') !== null && document.querySelector('[data-test=ticket-statement]') !== null`),
			chromedp.Evaluate(`(document.querySelector('#app').innerText.match(/\b(tickets|nav|common)\.[A-Za-z_]+/) || [''])[0]`, &key))
		if key != "" {
			t.Errorf("tickets in %s shows the message key %s", locale, key)
		}
	}
}
