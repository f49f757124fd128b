package server_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kaidian/kaidian/internal/backup"
	"github.com/kaidian/kaidian/internal/platform/db"
)

// TestConsoleBackupsInARealBrowser: the operator's backup screen shows the
// freshness alarm before the first backup, backs up and drills a restore
// from its buttons (each run listed as OK), and opens in both languages
// with no message key left untranslated.
func TestConsoleBackupsInARealBrowser(t *testing.T) {
	chromiumPath(t)
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil, "--backup-key", backup.NewKey())
	e.operator()
	b := newBrowser(t, e.ts.URL)
	b.login("admin", operatorPassword)
	rows := `document.querySelectorAll('[data-test=backup-runs] .el-table__body tr').length`
	b.run("backups", chromedp.Navigate(e.ts.URL+"/admin/backups"),
		waitJS(`document.querySelector('[data-test=backups-freshness].el-alert--error') !== null`),
		click(`[data-test=backup-now]`), waitJS(rows+` === 1`),
		waitJS(`document.querySelector('[data-test=backups-freshness].el-alert--success') !== null`),
		click(`[data-test=drill-now]`), waitJS(rows+` === 2`))
	b.screenshot("backups")
	runs := e.must(e.operator(), 200, "GET", "/admin/api/v1/backups", nil)["runs"].([]any)
	for _, r := range runs {
		if r.(map[string]any)["status"] != "ok" {
			t.Fatalf("a run from the console: %v", r)
		}
	}
	for _, locale := range []string{"en", "zh-CN"} {
		var key string
		b.run("locale "+locale, chromedp.Evaluate(fmt.Sprintf(`localStorage.setItem('kaidian.locale', %q)`, locale), nil),
			chromedp.Navigate(e.ts.URL+"/admin/backups"), waitJS(rows+` === 2`),
			chromedp.Evaluate(`(document.querySelector('#app').innerText.match(/\b(backups|nav|common)\.[A-Za-z_]+/) || [''])[0]`, &key))
		if key != "" {
			t.Errorf("backups in %s shows the message key %s", locale, key)
		}
	}
}
