package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// TestConsoleAuditLogInARealBrowser: the owner finds a staff change in the
// shop's audit log by searching, opens it to see the role before and
// after; the operator checks the chain from the platform's audit screen;
// both screens open in both languages with no message key untranslated.
func TestConsoleAuditLogInARealBrowser(t *testing.T) {
	chromiumPath(t)
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil)
	a := e.newShop(e.operator(), "甲", "enterprise")
	staff := e.must(a.owner, 201, "POST", "/admin/api/v1/staff",
		map[string]any{"username": "svc_" + a.appid, "password": "svc-pass-123", "role": "service", "display_name": "客服"})
	e.must(a.owner, 200, "PATCH", fmt.Sprintf("/admin/api/v1/staff/%v", staff["id"]), map[string]any{"role": "finance"})
	if _, err := e.srv.Audit.Seal(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, e.ts.URL)
	b.login("owner_"+a.appid, "owner-pass-1")
	var detail string
	b.run("search and open", chromedp.Navigate(e.ts.URL+"/admin/audit-log"),
		waitJS(`document.querySelectorAll('[data-test=audit-entries] .el-table__body tr').length >= 2`),
		fill(`[data-test=audit-q]`, "PATCH"), click(`[data-test=audit-search]`),
		waitJS(`document.querySelectorAll('[data-test=audit-entries] .el-table__body > tbody > tr').length === 1`),
		click(`[data-test=audit-entries] .el-table__expand-icon`),
		waitJS(`document.querySelector('.audit-detail') !== null`),
		chromedp.Evaluate(`document.querySelector('.audit-detail').innerText`, &detail))
	if !strings.Contains(detail, `"role": "service"`) || !strings.Contains(detail, `"role": "finance"`) {
		t.Fatalf("the change's detail: %s", detail)
	}
	for _, locale := range []string{"en", "zh-CN"} {
		var key string
		b.run("locale "+locale, chromedp.Evaluate(fmt.Sprintf(`localStorage.setItem('kaidian.locale', %q)`, locale), nil),
			chromedp.Navigate(e.ts.URL+"/admin/audit-log?x="+locale),
			waitJS(`document.querySelectorAll('[data-test=audit-entries] .el-table__body tr').length >= 1`),
			chromedp.Evaluate(`(document.querySelector('#app').innerText.match(/\b(audit|nav|common)\.[A-Za-z_]+/) || [''])[0]`, &key))
		if key != "" {
			t.Errorf("the audit log in %s shows the message key %s", locale, key)
		}
	}

	op := newBrowser(t, e.ts.URL)
	op.login("admin", operatorPassword)
	var verdict string
	op.run("verify", chromedp.Navigate(e.ts.URL+"/admin/platform-audit"),
		waitJS(`document.querySelectorAll('[data-test=audit-entries] .el-table__body tr').length >= 1`),
		click(`[data-test=audit-verify]`), waitJS(`document.querySelector('[data-test=audit-report]') !== null`),
		chromedp.Evaluate(`document.querySelector('[data-test=audit-report]').innerText`, &verdict))
	if !strings.Contains(verdict, "The chain holds") && !strings.Contains(verdict, "哈希链完整") {
		t.Fatalf("the verdict: %s", verdict)
	}
}
