package server_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// TestConsoleCostsInARealBrowser: the owner sees the shop's renewals with
// the days left and the year's report, marks the certification renewed
// from the console (its due day moves a year on), and the screen opens in
// both languages with no message key untranslated.
func TestConsoleCostsInARealBrowser(t *testing.T) {
	chromiumPath(t)
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil)
	a := e.newShop(e.operator(), "甲", "enterprise")
	item := e.must(a.owner, 201, "POST", "/admin/api/v1/cost-items", map[string]any{"kind": "certification", "name": "微信认证",
		"cost": 30000, "renews": "yearly", "due_on": "2030-05-20", "responsible": "店长"})
	b := newBrowser(t, e.ts.URL)
	b.login("owner_"+a.appid, "owner-pass-1")
	b.run("renewed", chromedp.Navigate(e.ts.URL+"/admin/costs"),
		waitJS(`document.querySelectorAll('[data-test=cost-items] .el-table__body tr').length === 1`),
		waitJS(`document.querySelector('[data-test=cost-report]') !== null`),
		click(fmt.Sprintf(`[data-test=cost-renewed-%v]`, item["id"])))
	waitFor(t, "the due day moved", func() bool {
		return e.mustList(a.owner, "/admin/api/v1/cost-items")[0]["due_on"] == "2031-05-20"
	})
	for _, locale := range []string{"en", "zh-CN"} {
		var key string
		b.run("locale "+locale, chromedp.Evaluate(fmt.Sprintf(`localStorage.setItem('kaidian.locale', %q)`, locale), nil),
			chromedp.Navigate(e.ts.URL+"/admin/costs?x="+locale), waitJS(`document.querySelector('[data-test=cost-report]') !== null`),
			chromedp.Evaluate(`(document.querySelector('#app').innerText.match(/\b(costs|nav|common)\.[A-Za-z_]+/) || [''])[0]`, &key))
		if key != "" {
			t.Errorf("costs in %s shows the message key %s", locale, key)
		}
	}
}
