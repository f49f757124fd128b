package server_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/kaidian/kaidian/internal/platform/db"
)

// TestConsoleAgencySwitchesShops: an agency login sees a shop switcher
// with its granted shops only, starts in the first, and switching to a shop
// where it is customer service gives it that role's menu.
func TestConsoleAgencySwitchesShops(t *testing.T) {
	chromiumPath(t)
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil)
	op := e.operator()
	a, b, c := e.newShop(op, "甲", "enterprise"), e.newShop(op, "乙", "enterprise"), e.newShop(op, "丙", "enterprise")
	e.newAgency(op, "agency_console", map[int64]string{a.id: "owner", b.id: "service"})
	br := newBrowser(t, e.ts.URL)
	br.login("agency_console", "agency-pass-1")

	var menu, options string
	br.run("the switcher lists the granted shops",
		chromedp.WaitVisible(`[data-test=shop-picker]`, chromedp.ByQuery),
		pick(`[data-test=shop-picker]`, `.el-select-dropdown__item`, b.appid),
		waitJS(`document.querySelector('.layout-aside') && !document.querySelector('.layout-aside').textContent.includes('员工账号')`),
		chromedp.Text(`.layout-aside`, &menu, chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll('.el-select-dropdown__item')].map((e) => e.textContent).join('|')`, &options))
	if !strings.Contains(options, a.appid) || !strings.Contains(options, b.appid) || strings.Contains(options, c.appid) {
		t.Fatalf("the switcher offers %q: want A and B, not C", options)
	}
	if !strings.Contains(menu, "订单") {
		t.Fatalf("customer service's menu in B: %q", menu)
	}
	br.run("back to A, where it is the owner",
		pick(`[data-test=shop-picker]`, `.el-select-dropdown__item`, a.appid),
		waitJS(`document.querySelector('.layout-aside').textContent.includes('员工账号')`))
}
