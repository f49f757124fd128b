package server_test

import (
	"fmt"
	"strings"
	"testing"
)

// pieceTemplate is a freight template by piece: ¥10 + ¥5 a piece beyond
// the first, ¥6 + ¥3 in 浙江, free from ¥300, not to 西藏.
func pieceTemplate(name string) map[string]any {
	return map[string]any{"name": name, "basis": "piece",
		"default":     map[string]any{"first_units": 1, "first_fee": 1000, "extra_units": 1, "extra_fee": 500},
		"rules":       []map[string]any{{"regions": []string{"330000"}, "first_units": 1, "first_fee": 600, "extra_units": 1, "extra_fee": 300}},
		"free":        []map[string]any{{"min_amount": 30000}},
		"no_delivery": []string{"540000"}}
}

func (e *env) newTemplate(a testShop, body map[string]any) int64 {
	e.t.Helper()
	return int64(e.must(a.owner, 201, "POST", "/admin/api/v1/freight-templates", body)["id"].(float64))
}

// setFreight points shop a's product at a freight template and gives its
// SKUs a weight, through the catalog API (the SKUs keep their ids).
func (e *env) setFreight(a testShop, templateID, grams int64) {
	e.t.Helper()
	p := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/products/%d", a.productID), nil)
	var skus []map[string]any
	for _, s := range p["skus"].([]any) {
		k := s.(map[string]any)
		skus = append(skus, map[string]any{"id": k["id"], "spec_values": k["spec_values"], "price": k["price"], "stock": k["stock"],
			"code": k["code"], "weight_grams": grams})
	}
	got := e.must(a.owner, 200, "PUT", fmt.Sprintf("/admin/api/v1/products/%d", a.productID), map[string]any{
		"category_id": p["category_id"], "title": p["title"], "images": p["images"], "specs": p["specs"], "on_shelf": p["on_shelf"],
		"kind": p["kind"], "skus": skus, "freight_template_id": templateID})
	if int64(got["freight_template_id"].(float64)) != templateID ||
		int64(got["skus"].([]any)[0].(map[string]any)["weight_grams"].(float64)) != grams {
		e.t.Fatalf("the product's freight was not saved: %v", got)
	}
}

// TestFreightTemplatesAndAddressesOverHTTP: staff manage templates (bad
// ones refused with stable codes, one in use not deleted), buyers browse
// regions, keep an address book (WeChat import included) and check out to
// a saved address, with the freight the template says, in preview and
// order alike; a region not delivered to and another buyer's address are
// refused.
func TestFreightTemplatesAndAddressesOverHTTP(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "运", "enterprise")
		e.setStock(a, 100)
		v := newDocValidator(t, e)
		e.seen = v.check
		defer v.finish(nil)

		// Templates: bad input refused with its code, nothing stored.
		for _, c := range []struct {
			edit func(map[string]any)
			code string
		}{
			{func(b map[string]any) { b["rules"] = []map[string]any{{"first_units": 1, "extra_units": 1}} }, "rule_without_regions"},
			{func(b map[string]any) { b["no_delivery"] = []string{"999999"} }, "invalid_region"},
			{func(b map[string]any) { b["default"].(map[string]any)["first_fee"] = -1 }, "negative_fee"},
			{func(b map[string]any) { b["default"].(map[string]any)["extra_units"] = 0 }, "zero_units"},
			{func(b map[string]any) { b["basis"] = "volume" }, "invalid_fields"},
		} {
			body := pieceTemplate("坏模板")
			c.edit(body)
			if r := e.do(a.owner, "POST", "/admin/api/v1/freight-templates", body); r.status != 400 || r.code() != c.code {
				t.Errorf("template %v: %d %s, want 400 %s", body, r.status, r.body, c.code)
			}
		}
		if list := e.mustList(a.owner, "/admin/api/v1/freight-templates"); len(list) != 0 {
			t.Fatalf("bad templates were stored: %v", list)
		}
		// Another shop's template cannot be given to a product.
		b := e.newShop(op, "别", "enterprise")
		theirs := e.newTemplate(b, pieceTemplate("别人的"))
		p := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/products/%d", a.productID), nil)
		body := productBody(a.categoryID, "连衣裙", true)
		body["freight_template_id"] = theirs
		if r := e.do(a.owner, "PUT", fmt.Sprintf("/admin/api/v1/products/%d", a.productID), body); r.status != 400 || r.code() != "freight_template_not_found" {
			t.Fatalf("another shop's template on a product: %d %s", r.status, r.body)
		}
		if after := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/products/%d", a.productID), nil); fmt.Sprint(after) != fmt.Sprint(p) {
			t.Fatalf("the refused save changed the product:\n%v\n%v", p, after)
		}
		tpl := e.newTemplate(a, pieceTemplate("按件"))
		e.setFreight(a, tpl, 500)
		if r := e.do(a.owner, "DELETE", fmt.Sprintf("/admin/api/v1/freight-templates/%d", tpl), nil); r.status != 409 || r.code() != "freight_template_in_use" {
			t.Fatalf("deleting a template in use: %d %s", r.status, r.body)
		}
		unused := e.newTemplate(a, pieceTemplate("备用"))
		e.must(a.owner, 204, "DELETE", fmt.Sprintf("/admin/api/v1/freight-templates/%d", unused), nil)
		if r := e.do(a.owner, "GET", fmt.Sprintf("/admin/api/v1/freight-templates/%d", unused), nil); r.status != 404 {
			t.Fatalf("a deleted template: %d %s", r.status, r.body)
		}

		// Regions, as the mini program browses them.
		shop := caller{appid: a.appid}
		provinces := e.must(shop, 200, "GET", "/api/v1/regions", nil)["regions"].([]any)
		if len(provinces) < 31 {
			t.Fatalf("%d provinces", len(provinces))
		}
		r := e.do(shop, "GET", "/api/v1/regions?parent=330100", nil)
		if r.status != 200 || !strings.Contains(string(r.body), `"330106"`) || !strings.Contains(r.header.Get("Cache-Control"), "max-age") {
			t.Fatalf("Hangzhou's counties: %d %v %s", r.status, r.header, r.body)
		}
		if r := e.do(shop, "GET", "/api/v1/regions?parent=999999", nil); r.status != 400 || r.code() != "invalid_query" {
			t.Fatalf("an unknown parent: %d %s", r.status, r.body)
		}

		// The address book.
		home := e.must(a.member, 201, "POST", "/api/v1/me/addresses", map[string]any{"name": "张三", "phone": "13800138000",
			"province_code": "330000", "city_code": "330100", "county_code": "330106", "detail": "文三路 1 号"})
		if home["is_default"] != true || home["county"] != "西湖区" {
			t.Fatalf("the first address: %v", home)
		}
		for _, c := range []struct {
			body map[string]any
			code string
		}{
			{map[string]any{"name": "张三", "phone": "12345", "province_code": "330000", "city_code": "330100", "county_code": "330106", "detail": "x"}, "invalid_phone"},
			{map[string]any{"name": "张三", "phone": "13800138000", "province_code": "330000", "city_code": "110100", "county_code": "110105", "detail": "x"}, "invalid_region"},
		} {
			if r := e.do(a.member, "POST", "/api/v1/me/addresses", c.body); r.status != 400 || r.code() != c.code {
				t.Errorf("address %v: %d %s, want %s", c.body, r.status, r.body, c.code)
			}
		}
		tibet := e.must(a.member, 201, "POST", "/api/v1/me/addresses/wechat", map[string]any{"userName": "李四", "postalCode": "850000",
			"provinceName": "西藏自治区", "cityName": "拉萨市", "countyName": "城关区", "detailInfo": "北京中路 1 号", "nationalCode": "540102",
			"telNumber": "13900139000", "errMsg": "chooseAddress:ok"})
		if tibet["is_default"] != false || tibet["province_code"] != "540000" {
			t.Fatalf("the imported address: %v", tibet)
		}
		if r := e.do(a.member, "POST", "/api/v1/me/addresses/wechat", map[string]any{"userName": "李四", "provinceName": "火星",
			"cityName": "x", "countyName": "y", "detailInfo": "z", "telNumber": "13900139000"}); r.status != 400 || r.code() != "invalid_region" ||
			!strings.Contains(string(r.body), "provinceName") {
			t.Fatalf("an unknown province from WeChat: %d %s", r.status, r.body)
		}
		if list := e.mustList(a.member, "/api/v1/me/addresses"); len(list) != 2 {
			t.Fatalf("the book: %v", list)
		}

		// Checkout to the saved address: 2 pieces in 浙江 = ¥6 + ¥3.
		checkout := map[string]any{"items": []map[string]any{{"sku_id": a.skuID, "quantity": 2}}, "address_id": home["id"]}
		pv := e.must(a.member, 200, "POST", "/api/v1/orders/preview", checkout)
		o := e.withHeader("Idempotency-Key", "freight-http-1").must(a.member, 201, "POST", "/api/v1/orders", checkout)
		if pv["breakdown"].(map[string]any)["shipping_fee"] != float64(900) || o["shipping_fee"] != float64(900) || pv["total"] != o["total_amount"] {
			t.Fatalf("preview %v, order %v", pv["breakdown"], o)
		}
		if addr := o["address"].(map[string]any); addr["district_code"] != "330106" || addr["district"] != "西湖区" {
			t.Fatalf("the order's address: %v", addr)
		}
		// Not delivered to 西藏: 422, naming the product.
		checkout["address_id"] = tibet["id"]
		for _, path := range []string{"/api/v1/orders/preview", "/api/v1/orders"} {
			r := e.withHeader("Idempotency-Key", "freight-http-2").do(a.member, "POST", path, checkout)
			if r.status != 422 || r.code() != "region_not_delivered" || !strings.Contains(string(r.body), "连衣裙") {
				t.Fatalf("%s to Tibet: %d %s", path, r.status, r.body)
			}
		}
		// Another buyer cannot use (or see) this buyer's address.
		other, _ := e.memberLogin(a.appid, "openid-other-freight")
		checkout["address_id"] = home["id"]
		if r := e.withHeader("Idempotency-Key", "freight-http-3").do(other, "POST", "/api/v1/orders", checkout); r.status != 404 || r.code() != "address_not_found" {
			t.Fatalf("another buyer's address_id: %d %s", r.status, r.body)
		}
		if r := e.do(other, "GET", fmt.Sprintf("/api/v1/me/addresses/%v", home["id"]), nil); r.status != 404 {
			t.Fatalf("another buyer reads the address: %d %s", r.status, r.body)
		}
		// Setting the default moves it; deleting it moves it back.
		e.must(a.member, 200, "POST", fmt.Sprintf("/api/v1/me/addresses/%v/default", tibet["id"]), nil)
		e.must(a.member, 204, "DELETE", fmt.Sprintf("/api/v1/me/addresses/%v", tibet["id"]), nil)
		if got := e.must(a.member, 200, "GET", fmt.Sprintf("/api/v1/me/addresses/%v", home["id"]), nil); got["is_default"] != true {
			t.Fatalf("the default after deleting the other: %v", got)
		}
	})
}
