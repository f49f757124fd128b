package server_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestBadInputGets4xxAndChangesNothing sends malformed, mistyped, oversized
// and out-of-range requests. Each must get a 4xx JSON error with a code,
// and the shop must be exactly as before.
func TestBadInputGets4xxAndChangesNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		v := newDocValidator(t, e) // every answer, refusals included, as /openapi.json says
		e.seen = v.check
		defer v.finish(nil)
		before := snapshot(e, a, a.productID)
		product := fmt.Sprintf("/admin/api/v1/products/%d", a.productID)
		aftersales := fmt.Sprintf("/api/v1/orders/%d/aftersales", a.orderID)
		huge := `{"title":"` + strings.Repeat("长", 1<<20) + `"}`
		cases := []struct {
			who         caller
			method, url string
			body        any
			status      int
			code        string
		}{
			{a.owner, "POST", "/admin/api/v1/products", `{"title":`, 400, "malformed_json"},
			{a.owner, "POST", "/admin/api/v1/products", `{"title":"x"} {"title":"y"}`, 400, "malformed_json"},
			{a.owner, "POST", "/admin/api/v1/products", `[1,2]`, 400, "invalid_type"},
			{a.owner, "POST", "/admin/api/v1/products", ``, 400, "empty_body"},
			{a.owner, "POST", "/admin/api/v1/products", `{"title":123}`, 400, "invalid_type"},
			{a.owner, "POST", "/admin/api/v1/products", `{"category_id":"1"}`, 400, "invalid_type"},
			{a.owner, "POST", "/admin/api/v1/products", `{"category_id":1e30}`, 400, "invalid_type"},
			{a.owner, "POST", "/admin/api/v1/products", `{"category_id":1.5}`, 400, "invalid_type"},
			{a.owner, "POST", "/admin/api/v1/products", `{"titel":"typo"}`, 400, "unknown_field"},
			{a.owner, "POST", "/admin/api/v1/products", huge, 413, "body_too_large"},
			{a.owner, "PUT", product, badSKU(a.categoryID, -1, 5), 400, "invalid_fields"},
			{a.owner, "PUT", product, badSKU(a.categoryID, 100, -5), 400, "invalid_fields"},
			{a.owner, "PUT", product, badSKU(a.categoryID, 1<<62, 5), 400, "invalid_fields"},
			{a.owner, "PUT", product, badSKU(a.categoryID, 100, 1<<40), 400, "invalid_fields"},
			{a.owner, "PUT", product, badSKU(999999, 100, 5), 400, "category_not_found"},
			{a.owner, "GET", "/admin/api/v1/products/999999", nil, 404, "product_not_found"},
			{a.owner, "GET", "/admin/api/v1/products/abc", nil, 400, "invalid_id"},
			{a.owner, "GET", "/admin/api/v1/products/-3", nil, 400, "invalid_id"},
			{a.owner, "GET", "/admin/api/v1/products/99999999999999999999", nil, 400, "invalid_id"},
			{a.owner, "DELETE", "/admin/api/v1/products/999999", nil, 404, "product_not_found"},
			{a.owner, "GET", "/admin/api/v1/products?limit=0", nil, 400, "invalid_query"},
			{a.owner, "GET", "/admin/api/v1/products?limit=1000", nil, 400, "invalid_query"},
			{a.owner, "GET", "/admin/api/v1/products?cursor=-1", nil, 400, "invalid_cursor"},
			{a.owner, "GET", "/admin/api/v1/orders?limit=101", nil, 400, "invalid_query"},
			{a.owner, "GET", "/admin/api/v1/products?category_id=x", nil, 400, "invalid_query"},
			{a.owner, "GET", "/admin/api/v1/products?q=" + strings.Repeat("裙", 60), nil, 400, "query_too_long"},
			{a.owner, "PATCH", fmt.Sprintf("/admin/api/v1/categories/%d", a.categoryID), `{"parent_id":999999}`, 400, "invalid_fields"},
			{a.owner, "PATCH", fmt.Sprintf("/admin/api/v1/categories/%d", a.categoryID), `{"parent_id":` + fmt.Sprint(a.categoryID) + `}`, 400, "category_cycle"},
			{a.owner, "POST", "/admin/api/v1/staff", `{"username":"x","password":"short","role":"king"}`, 400, "invalid_fields"},
			{a.owner, "POST", "/admin/api/v1/products/import", "not,a,valid\ncsv", 400, "invalid_fields"},
			{a.owner, "POST", "/admin/api/v1/products", `{"title":"x"}`, 415, "unsupported_media_type"},
			{caller{appid: a.appid}, "POST", "/api/v1/auth/login", `{"code":""}`, 400, "invalid_login_code"},
			{caller{appid: a.appid}, "POST", "/api/v1/auth/login", `{"code":"never-issued"}`, 400, "invalid_login_code"},
			{caller{appid: "wx0000000000000bad"}, "GET", "/api/v1/products", nil, 404, "shop_not_found"},
			{caller{}, "GET", "/api/v1/products", nil, 400, "appid_required"},
			{caller{token: "forged"}, "GET", "/api/v1/me", nil, 401, "unauthenticated"},
			{caller{token: a.owner.token}, "GET", "/api/v1/me", nil, 401, "unauthenticated"},
			{caller{token: a.member.token}, "GET", "/admin/api/v1/products", nil, 401, "unauthenticated"},
			{caller{}, "POST", "/admin/api/v1/auth/login", `{"username":"admin","password":"wrong"}`, 401, "invalid_credentials"},
			{a.owner, "GET", "/no/such/route", nil, 404, "route_not_found"},
			{a.member, "POST", aftersales, `{"type":"return_refund","reason":"坏了","lines":[{"order_line_id":1,"quantity":-1}]}`, 400, "invalid_fields"},
			{a.member, "POST", aftersales, `{"type":"swap","reason":"坏了","lines":[{"order_line_id":1,"quantity":1}]}`, 400, "invalid_fields"},
			{a.member, "POST", aftersales, `{"type":"exchange","reason":"坏了","amount":-5}`, 400, "invalid_fields"},
			{a.member, "POST", aftersales, `{"reason":"坏了","lines":[{"order_line_id":"x","quantity":1}]}`, 400, "invalid_type"},
			{a.member, "POST", aftersales, `{"reason":"坏了","lines":[{"order_line_id":1,"quantity":1e30}]}`, 400, "invalid_type"},
			{a.member, "POST", "/api/v1/aftersales/999999/ship-back", `{"carrier":"中通","tracking_no":"ZT123456"}`, 404, "aftersale_not_found"},
			{a.member, "POST", "/api/v1/aftersales/999999/ship-back", `{"carrier":"","tracking_no":"../../etc"}`, 400, "invalid_fields"},
			{a.owner, "POST", "/admin/api/v1/aftersales/999999/receive", nil, 404, "aftersale_not_found"},
			{a.owner, "POST", "/admin/api/v1/aftersales/999999/ship-exchange", `{"carrier":"顺丰","tracking_no":"SF123456"}`, 404, "aftersale_not_found"},
			{a.owner, "PUT", "/admin/api/v1/aftersale-settings", `{"auto_confirm_days":-1,"return_ship_days":7,"return_receive_days":10}`, 400, "invalid_fields"},
			{a.owner, "PUT", "/admin/api/v1/aftersale-settings", `{"auto_confirm_days":31,"return_ship_days":7,"return_receive_days":10}`, 400, "invalid_fields"},
			{a.owner, "PUT", "/admin/api/v1/aftersale-settings", `{"auto_confirm_days":1e30}`, 400, "invalid_type"},
		}
		for _, c := range cases {
			res := e.doRaw(c.who, c.method, c.url, c.body, c.status == 415)
			if res.status != c.status || res.code() != c.code {
				t.Errorf("%s %s %.60v: got %d %s, want %d %s", c.method, c.url, c.body, res.status, res.body, c.status, c.code)
			}
		}
		if after := snapshot(e, a, a.productID); after != before {
			t.Errorf("bad input changed the shop:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
}

func badSKU(categoryID, price, stock int64) map[string]any {
	return map[string]any{"category_id": categoryID, "title": "改", "skus": []map[string]any{{"spec_values": []string{}, "price": price, "stock": stock}}}
}

// doRaw is do with the option to send a non-JSON content type.
func (e *env) doRaw(c caller, method, path string, body any, formType bool) response {
	if !formType {
		return e.do(c, method, path, body)
	}
	e.t.Helper()
	return e.doWithType(c, method, path, body.(string), "application/x-www-form-urlencoded")
}

// TestNoRouteAnswers5xxToGarbage throws garbage at every route as an
// operator acting on a shop: nothing may answer 5xx.
func TestNoRouteAnswers5xxToGarbage(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		opShop := caller{token: op.token, shopID: a.id}
		v := newDocValidator(t, e) // every answer, refusals included, as /openapi.json says
		e.seen = v.check
		defer v.finish(nil)
		garbage := []any{`{`, `null`, `"str"`, `{"id":-1,"price":-1,"stock":-1,"skus":null,"specs":[{}]}`,
			`{"skus":[{"spec_values":null,"price":1e400}]}`, "\x00\xff", `{"code":"` + strings.Repeat("a", 500) + `"}`}
		for _, rt := range selfRoutesLast(e.srv.API.Routes()) {
			if strings.HasSuffix(rt.Path, "/logout") || strings.HasSuffix(rt.Path, "/password") {
				continue
			}
			for _, path := range []string{strings.ReplaceAll(rt.Path, "{id}", "1"), strings.ReplaceAll(rt.Path, "{id}", "0"), strings.ReplaceAll(rt.Path, "{id}", "x%00")} {
				for _, who := range []caller{opShop, a.member, {appid: a.appid}} {
					for _, g := range garbage {
						if res := e.do(who, rt.Method, path, g); res.status >= 500 {
							t.Errorf("%s %s body %q: %d %s", rt.Method, path, g, res.status, res.body)
						}
					}
				}
			}
		}
	})
}
