package server_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// TestConsolePrivacyInARealBrowser: the owner publishes the privacy policy
// from the console and sees a member's waiting deletion request with what
// it waits for; the screen opens in both languages with no message key
// untranslated.
func TestConsolePrivacyInARealBrowser(t *testing.T) {
	chromiumPath(t)
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil)
	a := e.newShop(e.operator(), "甲", "enterprise")
	if del := e.must(a.member, 200, "POST", "/api/v1/me/deletion", nil); del["status"] != "waiting" {
		t.Fatalf("deletion: %v", del)
	}
	b := newBrowser(t, e.ts.URL)
	b.login("owner_"+a.appid, "owner-pass-1")
	b.run("publish", chromedp.Navigate(e.ts.URL+"/admin/privacy"),
		waitJS(`document.querySelectorAll('[data-test=privacy-requests] .el-table__body tr').length === 1`),
		fill(`[data-test=privacy-version]`, "2026-12"), fill(`[data-test=privacy-url]`, "https://shop.example/privacy"),
		click(`[data-test=privacy-publish]`),
		waitJS(`document.querySelector('[data-test=privacy-policies]').innerText.includes('2026-12')`))
	if got := e.mustList(a.owner, "/admin/api/v1/privacy/policies"); len(got) != 1 || got[0]["version"] != "2026-12" {
		t.Fatalf("published: %v", got)
	}
	b.run("retention", waitJS(`document.querySelector('[data-test=retention]') !== null`),
		fill(`[data-test=retention-days]`, "90"), click(`[data-test=retention-save]`))
	waitFor(t, "the retention saved", func() bool {
		return e.must(a.owner, 200, "GET", "/admin/api/v1/retention", nil)["analytics_events_days"].(float64) == 90
	})
	for _, locale := range []string{"en", "zh-CN"} {
		var key string
		b.run("locale "+locale, chromedp.Evaluate(fmt.Sprintf(`localStorage.setItem('kaidian.locale', %q)`, locale), nil),
			chromedp.Navigate(e.ts.URL+"/admin/privacy?x="+locale),
			waitJS(`document.querySelectorAll('[data-test=privacy-requests] .el-table__body tr').length === 1`),
			chromedp.Evaluate(`(document.querySelector('#app').innerText.match(/\b(privacy|nav|common)\.[A-Za-z_.]+/) || [''])[0]`, &key))
		if key != "" {
			t.Errorf("the privacy screen in %s shows the message key %s", locale, key)
		}
	}
}
