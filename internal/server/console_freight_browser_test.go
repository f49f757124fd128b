package server_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// TestConsoleFreightInARealBrowser: staff add a freight template in the
// console, give it to a product with SKU weights in the product editor, and
// a later save of the product (changing nothing) keeps both.
func TestConsoleFreightInARealBrowser(t *testing.T) {
	chromiumPath(t) // skip (or fail where required) before starting a server
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil)
	op := e.operator()
	a := e.newShop(op, "甲", "enterprise")
	b := newBrowser(t, e.ts.URL)
	b.login("owner_"+a.appid, "owner-pass-1")

	b.run("new template", chromedp.Navigate(e.ts.URL+"/admin/freight"), click(`[data-test=freight-new]`),
		chromedp.WaitVisible(`[data-test=freight-save]`, chromedp.ByQuery),
		fill(`[data-test=freight-name]`, "江浙沪包邮"), fill(`[data-test=freight-first-fee]`, "12"),
		click(`[data-test=freight-save]`), waitJS(`document.querySelectorAll('.freight-name').length === 1`))
	b.screenshot("freight-templates")
	list := e.mustList(a.owner, "/admin/api/v1/freight-templates")
	if len(list) != 1 || list[0]["name"] != "江浙沪包邮" || list[0]["default"].(map[string]any)["first_fee"] != float64(1200) {
		t.Fatalf("the saved template: %v", list)
	}
	tpl := list[0]["id"].(float64)

	product := fmt.Sprintf("/admin/products/%d", a.productID)
	b.run("product freight", chromedp.Navigate(e.ts.URL+product), chromedp.WaitVisible(`[data-test=save-product]`, chromedp.ByQuery),
		waitJS(`document.querySelectorAll('[data-test=sku-grid] .el-table__body tr').length === 6`),
		pick(`[data-test=freight-template]`, `.el-select-dropdown__item`, "江浙沪包邮"),
		fill(`[data-test=sku-weight-0]`, "500"), click(`[data-test=save-product]`),
		waitJS(`!document.querySelector('.el-loading-mask')`))
	var updated any
	check := func(when string) {
		t.Helper()
		var p map[string]any
		waitFor(t, when, func() bool {
			p = e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/products/%d", a.productID), nil)
			return p["freight_template_id"] == tpl && p["updated_at"] != updated
		})
		if w := p["skus"].([]any)[0].(map[string]any)["weight_grams"]; w != float64(500) {
			t.Fatalf("%s: the first SKU weighs %v", when, w)
		}
		updated = p["updated_at"]
	}
	check("the product saved with its template")
	b.run("save again", chromedp.Navigate(e.ts.URL+product), chromedp.WaitVisible(`[data-test=save-product]`, chromedp.ByQuery),
		waitJS(`document.querySelectorAll('[data-test=sku-grid] .el-table__body tr').length === 6`), click(`[data-test=save-product]`))
	check("a save that changes nothing")
}
