package server_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/sms/sandbox"
)

// TestConsoleSMSInARealBrowser: staff set the shop's SMS account; the
// secret comes back masked and a save without it keeps it.
func TestConsoleSMSInARealBrowser(t *testing.T) {
	chromiumPath(t) // skip (or fail where required) before starting a server
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil)
	op := e.operator()
	a := e.newShop(op, "甲", "enterprise")
	b := newBrowser(t, e.ts.URL)
	b.login("owner_"+a.appid, "owner-pass-1")

	b.run("settings", chromedp.Navigate(e.ts.URL+"/admin/messages/sms"), chromedp.WaitVisible(`[data-test=sms-save]`, chromedp.ByQuery),
		fill(`[data-test=sms-key-id]`, sandbox.AliyunKeyID), fill(`[data-test=sms-secret]`, sandbox.AliyunSecret),
		fill(`[data-test=sms-sign-name]`, "甲小铺"), fill(`[data-test=sms-template-phone_code]`, "SMS_0001"),
		click(`[data-test=sms-save]`))
	waitFor(t, "SMS settings saved", func() bool {
		return e.must(a.owner, 200, "GET", "/admin/api/v1/sms/settings", nil)["configured"] == true
	})
	b.run("masked", chromedp.Reload(), chromedp.WaitVisible(`[data-test=sms-save]`, chromedp.ByQuery),
		waitJS(`document.querySelector('[data-test=sms-secret]').placeholder.includes('****cret')`),
		fill(`[data-test=sms-sign-name]`, "甲新签名"), click(`[data-test=sms-save]`))
	b.screenshot("sms-settings")
	waitFor(t, "sign name changed, secret kept", func() bool {
		s := e.must(a.owner, 200, "GET", "/admin/api/v1/sms/settings", nil)
		return s["sign_name"] == "甲新签名" && s["access_secret"] == "****cret"
	})
	// The secret still works: a code goes out.
	e.must(a.member, 200, "POST", "/api/v1/me/phone/code", map[string]any{"phone": "13912345678"})
}
