package server_test

import (
	"bytes"
	"fmt"
	"image/png"
	"testing"
)

// TestShareCodes: a buyer's product code carries the product, and the
// buyer's promoter id once they are a promoter; a promoter's poster code
// carries the promoter; each is a real PNG from WeChat's getwxacodeunlimit
// (the sandbox), staff get a code without a promoter; products off the
// shelf or of another shop, non-promoters and bad pages are refused.
func TestShareCodes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.paidShop("甲")
		b := e.paidShop("乙")
		e.enableDistribution(a, nil)
		code := func(c caller, path string) []byte {
			t.Helper()
			r := e.do(c, "GET", path, nil)
			if r.status != 200 || r.header.Get("Content-Type") != "image/png" {
				t.Fatalf("%s: %d %s %s", path, r.status, r.header.Get("Content-Type"), r.body)
			}
			img, err := png.Decode(bytes.NewReader(r.body))
			if err != nil || img.Bounds().Dx() != 430 {
				t.Fatalf("%s: not a 430-pixel PNG: %v", path, err)
			}
			return r.body
		}
		last := func() string {
			drawn := e.sandbox.CodesDrawn()
			d := drawn[len(drawn)-1]
			return d.Scene + " " + d.Page + " " + d.EnvVersion
		}
		product := fmt.Sprintf("/api/v1/products/%d/share-code", a.productID)
		plain := code(a.member, product)
		if got, want := last(), fmt.Sprintf("g=%d pages/goods/detail release", a.productID); got != want {
			t.Fatalf("a buyer's product code: %q, want %q", got, want)
		}
		if r := e.do(a.member, "GET", "/api/v1/me/promoter/code", nil); r.status != 404 || !bytes.Contains(r.body, []byte("not_a_promoter")) {
			t.Fatalf("a non-promoter's poster code: %d %s", r.status, r.body)
		}
		promoter := int64(e.must(a.member, 200, "POST", "/api/v1/me/promoter", nil)["id"].(float64))
		shared := code(a.member, product+"?page=pages/item/index&env_version=trial")
		if got, want := last(), fmt.Sprintf("g=%d&p=%d pages/item/index trial", a.productID, promoter); got != want {
			t.Fatalf("a promoter's product code: %q, want %q", got, want)
		}
		if bytes.Equal(plain, shared) {
			t.Fatal("the promoter's code is the same image as the plain one")
		}
		code(a.member, "/api/v1/me/promoter/code")
		if got, want := last(), fmt.Sprintf("p=%d pages/index/index release", promoter); got != want {
			t.Fatalf("a poster code: %q, want %q", got, want)
		}
		// Staff's product code is the buyer's plain one, from the blob store's
		// cache: WeChat is not asked again.
		drawn := len(e.sandbox.CodesDrawn())
		if staff := code(a.owner, fmt.Sprintf("/admin/api/v1/products/%d/share-code", a.productID)); !bytes.Equal(staff, plain) {
			t.Fatal("staff's product code differs from the buyer's plain code")
		}
		if n := len(e.sandbox.CodesDrawn()); n != drawn {
			t.Fatalf("a cached code was asked of WeChat again (%d draws, had %d)", n, drawn)
		}

		for _, c := range []struct {
			who    caller
			path   string
			status int
		}{
			{b.member, product, 404},
			{b.owner, fmt.Sprintf("/admin/api/v1/products/%d/share-code", a.productID), 404},
			{a.member, product + "?page=/pages/x", 400},
			{a.member, product + "?page=pages/../x", 400},
			{a.member, product + "?env_version=beta", 400},
			{a.member, product + "?width=99999", 400},
			{a.member, product + "?width=abc", 400},
			{a.member, "/api/v1/products/999999/share-code", 404},
		} {
			if r := e.do(c.who, "GET", c.path, nil); r.status != c.status {
				t.Errorf("%s: %d %s, want %d", c.path, r.status, r.body, c.status)
			}
		}
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/products/%d/shelf", a.productID), map[string]any{"on_shelf": false})
		if r := e.do(a.member, "GET", product, nil); r.status != 404 {
			t.Fatalf("a product off the shelf: %d %s", r.status, r.body)
		}
	})
}
