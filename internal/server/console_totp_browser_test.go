package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// TestConsoleTwoStepVerificationInARealBrowser: the owner turns on
// two-step verification from the console (scans or types the key, enters
// a code, sees the recovery codes once); the next login asks for the
// second step, passed with a recovery code; once that step-up has lapsed,
// the orders export (a sensitive action) asks for a code and then
// downloads; the screen and the
// login step open with no message key untranslated.
func TestConsoleTwoStepVerificationInARealBrowser(t *testing.T) {
	chromiumPath(t)
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil)
	op := e.operator()
	a := e.newShop(op, "甲", "enterprise")
	user := "owner_" + a.appid
	b := newBrowser(t, e.ts.URL)
	b.login(user, "owner-pass-1")
	var secret, codes string
	b.run("enrol", chromedp.Navigate(e.ts.URL+"/admin/security"),
		waitJS(`document.querySelector('[data-test=totp-enrol]') !== null`), click(`[data-test=totp-enrol]`),
		waitJS(`document.querySelector('[data-test=totp-qr]') !== null && document.querySelector('[data-test=totp-secret]').innerText.length >= 16`),
		chromedp.Evaluate(`document.querySelector('[data-test=totp-secret]').innerText`, &secret))
	code, err := totp.GenerateCode(strings.TrimSpace(secret), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.run("confirm", fill(`[data-test=totp-code]`, code), click(`[data-test=totp-confirm]`),
		waitJS(`document.querySelector('[data-test=recovery-codes]') !== null`),
		chromedp.Evaluate(`document.querySelector('[data-test=recovery-codes]').innerText`, &codes),
		click(`[data-test=codes-saved]`))
	recovery := strings.Fields(codes)
	if len(recovery) != 10 {
		t.Fatalf("recovery codes: %q", codes)
	}

	b2 := newBrowser(t, e.ts.URL)
	var untranslated string
	b2.run("second step", chromedp.Navigate(e.ts.URL+"/admin/login"),
		chromedp.WaitVisible(`[data-test=login-submit]`, chromedp.ByQuery),
		fill(`[data-test=username]`, user), fill(`[data-test=password]`, "owner-pass-1"), click(`[data-test=login-submit]`),
		chromedp.WaitVisible(`[data-test=login-code]`, chromedp.ByQuery),
		chromedp.Evaluate(`(document.body.innerText.match(/\b(login|security)\.[A-Za-z_]+/) || [''])[0]`, &untranslated),
		click(`[data-test=login-use-recovery]`), fill(`[data-test=login-code]`, recovery[0]), click(`[data-test=login-code-submit]`),
		chromedp.WaitVisible(`.layout-aside`, chromedp.ByQuery))
	if untranslated != "" {
		t.Errorf("the login's second step shows %s", untranslated)
	}
	// The login's code counts as a step-up for 5 minutes: let it lapse.
	if _, err := e.srv.DB.Exec(context.Background(), `UPDATE sessions SET stepped_up_at = NULL WHERE kind = 'staff'`); err != nil {
		t.Fatal(err)
	}
	next, err := totp.GenerateCode(strings.TrimSpace(secret), time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	b2.run("step up for the export", chromedp.Navigate(e.ts.URL+"/admin/orders"),
		waitJS(`document.querySelector('[data-test=order-export]') !== null`), click(`[data-test=order-export]`),
		waitJS(`document.querySelector('.el-message-box input') !== null`), fill(`.el-message-box input`, next),
		click(`.el-message-box .el-button--primary`))
	waitFor(t, "the export after the code", func() bool {
		got := e.mustList(caller{token: op.token, shopID: a.id}, "/admin/api/v1/audit-log?q=exports/orders")
		return len(got) > 0 && got[0]["status"].(float64) == 200
	})
}

// TestConsoleRequiredEnrolmentInARealBrowser: where the server requires
// two-step verification, an operator without it lands on the security
// screen whatever they open, sets it up there, and then reaches the console.
func TestConsoleRequiredEnrolmentInARealBrowser(t *testing.T) {
	chromiumPath(t)
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil, "--require-totp=true")
	b := newBrowser(t, e.ts.URL)
	var secret string
	b.run("log in", chromedp.Navigate(e.ts.URL+"/admin/login"),
		chromedp.WaitVisible(`[data-test=login-submit]`, chromedp.ByQuery),
		fill(`[data-test=username]`, "admin"), fill(`[data-test=password]`, operatorPassword), click(`[data-test=login-submit]`),
		waitJS(`location.pathname === '/admin/security' && document.querySelector('[data-test=totp-enrol]') !== null`),
		chromedp.Navigate(e.ts.URL+"/admin/shops"),
		waitJS(`location.pathname === '/admin/security'`),
		waitJS(`document.querySelector('[data-test=totp-enrol]') !== null`), click(`[data-test=totp-enrol]`),
		waitJS(`document.querySelector('[data-test=totp-secret]') !== null && document.querySelector('[data-test=totp-secret]').innerText.length >= 16`),
		chromedp.Evaluate(`document.querySelector('[data-test=totp-secret]').innerText`, &secret))
	code, err := totp.GenerateCode(strings.TrimSpace(secret), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.run("enrol and go on", fill(`[data-test=totp-code]`, code), click(`[data-test=totp-confirm]`),
		waitJS(`document.querySelector('[data-test=codes-saved]') !== null`), click(`[data-test=codes-saved]`),
		chromedp.Navigate(e.ts.URL+"/admin/shops"),
		waitJS(`location.pathname === '/admin/shops'`), chromedp.WaitVisible(`.layout-aside`, chromedp.ByQuery))
}
