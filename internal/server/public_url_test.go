package server_test

import (
	"testing"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
	"github.com/kaidian/kaidian/internal/server"
)

// TestWeChatPaySettingsNeedAPublicURL: on a server started by serve without
// a public URL (it starts while no shop takes WeChat Pay), WeChat Pay settings are refused when saved (409
// public_url_required), by the shop's staff and by operators, at creation
// too, since the notify_url would be http://<listen address>; other
// settings still save.
func TestWeChatPaySettingsNeedAPublicURL(t *testing.T) {
	for _, engine := range db.TestEngines() {
		t.Run(string(engine), func(t *testing.T) {
			e := newEnvWith(t, db.TestDSN(t, engine), nil, server.Options{RequirePublicURL: true}, "--public-url", "")
			op := e.operator()
			a := e.newShop(op, "甲", "enterprise")
			cred, err := e.pay.NewMerchant("", a.appid)
			if err != nil {
				t.Fatal(err)
			}
			pay := map[string]any{"mch_id": cred.MchID, "mch_cert_serial": cred.CertSerial,
				"secrets": map[string]string{"mch_private_key": cred.PrivateKeyPEM, "apiv3_key": cred.APIv3Key}}
			if r := e.do(a.owner, "PATCH", "/admin/api/v1/shop/wechat", pay); r.status != 409 || r.code() != "public_url_required" {
				t.Fatalf("the owner saving WeChat Pay settings without a public URL: %d %s", r.status, r.body)
			}
			if r := e.do(op, "PATCH", "/admin/api/v1/shops/"+itoa(a.id), pay); r.status != 409 || r.code() != "public_url_required" {
				t.Fatalf("an operator saving WeChat Pay settings without a public URL: %d %s", r.status, r.body)
			}
			if r := e.do(op, "POST", "/admin/api/v1/shops", map[string]any{"name": "乙", "appid": "wx00000000000000b2",
				"subject_type": "enterprise", "mch_id": cred.MchID}); r.status != 409 || r.code() != "public_url_required" {
				t.Fatalf("creating a shop with WeChat Pay without a public URL: %d %s", r.status, r.body)
			}
			if sh := e.must(a.owner, 200, "GET", "/admin/api/v1/shop", nil); sh["mch_id"] != "" {
				t.Fatalf("a refused save stored mch_id %v", sh["mch_id"])
			}
			e.must(a.owner, 200, "PATCH", "/admin/api/v1/shop/settings", map[string]any{"orders": map[string]any{"unpaid_cancel_minutes": 30, "shipping_fee": 800, "free_shipping_over": 9900}})
			e.must(op, 200, "PATCH", "/admin/api/v1/shops/"+itoa(a.id), map[string]any{"name": "甲店"})
		})
	}
}

// TestWeChatPaySettingsSaveWithAPublicURL: the same settings save on a
// server that has one (the harness's default).
func TestWeChatPaySettingsSaveWithAPublicURL(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.enablePay(op, a, paysandbox.KeyModeCertificate)
		if sh := e.must(a.owner, 200, "GET", "/admin/api/v1/shop", nil); sh["mch_id"] == "" {
			t.Fatal("WeChat Pay settings were not saved")
		}
	})
}
