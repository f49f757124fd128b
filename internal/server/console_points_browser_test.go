package server_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// TestConsolePointsInARealBrowser: staff turn points on, adjust a member's
// points with a reason and see it in the member's ledger, and add a level.
func TestConsolePointsInARealBrowser(t *testing.T) {
	chromiumPath(t) // skip (or fail where required) before starting a server
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil)
	op := e.operator()
	a := e.newShop(op, "甲", "enterprise")
	b := newBrowser(t, e.ts.URL)
	b.login("owner_"+a.appid, "owner-pass-1")

	b.run("rules", chromedp.Navigate(e.ts.URL+"/admin/points"), chromedp.WaitVisible(`[data-test=points-rules-save]`, chromedp.ByQuery),
		click(`[data-test=points-rules] .el-switch`), click(`[data-test=points-rules-save]`))
	waitFor(t, "points turned on", func() bool {
		return e.must(a.owner, 200, "GET", "/admin/api/v1/points/settings", nil)["enabled"] == true
	})
	b.run("adjust", click(`#tab-member`), chromedp.WaitVisible(`[data-test=points-member-id] input`, chromedp.ByQuery),
		fill(`[data-test=points-member-id] input`, fmt.Sprint(a.memberID)), click(`#pane-member .toolbar button`),
		chromedp.WaitVisible(`[data-test=points-adjust]`, chromedp.ByQuery),
		fill(`[data-test=points-reason]`, "线下活动补发"), click(`[data-test=points-adjust]`),
		waitJS(`document.querySelector('[data-test=points-balance]').textContent.trim() === '100'`),
		waitJS(`document.querySelector('[data-test=points-entries]').textContent.includes('线下活动补发')`))
	b.screenshot("points-member")
	if bal := e.pointsBalance(a.member); bal != 100 {
		t.Fatalf("balance after the console's adjustment: %d", bal)
	}

	// A level: added, named and saved in the levels screen.
	b.run("levels", chromedp.Navigate(e.ts.URL+"/admin/levels"), chromedp.WaitVisible(`[data-test=levels-add]`, chromedp.ByQuery),
		click(`[data-test=levels-add]`), fill(`[data-test=levels-table] .el-table__body tr:first-child input`, "金卡"),
		click(`[data-test=levels-save]`))
	waitFor(t, "the level saved", func() bool {
		l := e.must(a.owner, 200, "GET", "/admin/api/v1/levels", nil)["levels"].([]any)
		return len(l) == 1 && l[0].(map[string]any)["name"] == "金卡"
	})
}
