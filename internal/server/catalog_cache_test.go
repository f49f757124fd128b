package server_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
)

// detail reads a product as a buyer and returns its title and first SKU's
// stock.
func (e *env) detail(appid string, id int64) (title string, stock float64) {
	e.t.Helper()
	m := e.must(caller{appid: appid}, 200, "GET", "/api/v1/products/"+itoa(id), nil)
	return m["title"].(string), m["skus"].([]any)[0].(map[string]any)["stock"].(float64)
}

// TestProductDetailCacheFollowsWrites: buyers' product pages come from the
// detail cache, and an edit, a shelf change and a sale all show.
func TestProductDetailCacheFollowsWrites(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "缓", "enterprise")
		p := e.must(a.owner, 201, "POST", "/admin/api/v1/products", productBody(a.categoryID, "缓存连衣裙", true))
		id := int64(p["id"].(float64))
		sku := int64(p["skus"].([]any)[0].(map[string]any)["id"].(float64))
		if title, stock := e.detail(a.appid, id); title != "缓存连衣裙" || stock != 10 {
			t.Fatalf("detail: %q %v", title, stock)
		}
		e.detail(a.appid, id) // from the cache now

		// This process's edit shows at once.
		e.must(a.owner, 200, "PUT", "/admin/api/v1/products/"+itoa(id), productBody(a.categoryID, "改过的连衣裙", true))
		if title, _ := e.detail(a.appid, id); title != "改过的连衣裙" {
			t.Fatalf("after an edit the buyer sees %q", title)
		}
		sku = int64(e.must(a.owner, 200, "GET", "/admin/api/v1/products/"+itoa(id), nil)["skus"].([]any)[0].(map[string]any)["id"].(float64))

		// A sale moves the stock shown within the sync interval (100 ms here).
		e.buyNow(a.member, sku, 3)
		waitFor(t, "the sale to show in the buyer's stock", func() bool {
			_, stock := e.detail(a.appid, id)
			return stock == 7
		})

		// Off the shelf: gone for buyers at once.
		e.must(a.owner, 200, "POST", "/admin/api/v1/products/"+itoa(id)+"/shelf", map[string]bool{"on_shelf": false})
		if r := e.do(caller{appid: a.appid}, "GET", "/api/v1/products/"+itoa(id), nil); r.status != 404 {
			t.Fatalf("a product off the shelf answered %d", r.status)
		}
	})
}

// TestCatalogEditReachesOtherProcessByNotify runs two servers on one
// PostgreSQL whose poll is an hour apart: an edit on one reaches the other's
// cached product page, category page and search through LISTEN/NOTIFY, in
// well under a second.
func TestCatalogEditReachesOtherProcessByNotify(t *testing.T) {
	if os.Getenv(db.TestPostgresEnv) == "" {
		t.Skip("KAIDIAN_TEST_POSTGRES not set")
	}
	dsn := db.TestDSN(t, db.Postgres)
	sb := sandbox.New()
	one, two := newEnv(t, dsn, sb, "--sync-interval", "1h"), newEnv(t, dsn, sb, "--sync-interval", "1h")
	a := one.newShop(one.operator(), "通", "enterprise")
	p := one.must(a.owner, 201, "POST", "/admin/api/v1/products", productBody(a.categoryID, "通知连衣裙", true))
	id := int64(p["id"].(float64))
	waitWithin(t, time.Second, "the new product to reach two", func() bool {
		r := two.do(caller{appid: a.appid}, "GET", "/api/v1/products/"+itoa(id), nil)
		return r.status == 200
	})
	two.detail(a.appid, id) // cached on two

	start := time.Now()
	one.must(a.owner, 200, "PUT", "/admin/api/v1/products/"+itoa(id), productBody(a.categoryID, "通知改名连衣裙", true))
	waitWithin(t, time.Second, "the edit to reach two's product page", func() bool {
		title, _ := two.detail(a.appid, id)
		return title == "通知改名连衣裙"
	})
	waitWithin(t, time.Second, "the edit to reach two's category page and search", func() bool {
		cat := two.do(caller{appid: a.appid}, "GET", "/api/v1/products?category_id="+itoa(a.categoryID), nil)
		q := two.do(caller{appid: a.appid}, "GET", "/api/v1/products?q=通知改名", nil)
		return strings.Contains(cat.String(), "通知改名连衣裙") && strings.Contains(q.String(), "通知改名连衣裙")
	})
	t.Logf("edit visible on the other server after %s", time.Since(start).Round(time.Millisecond))

	one.must(a.owner, 200, "POST", "/admin/api/v1/products/"+itoa(id)+"/shelf", map[string]bool{"on_shelf": false})
	waitWithin(t, time.Second, "off the shelf on two", func() bool {
		return two.do(caller{appid: a.appid}, "GET", "/api/v1/products/"+itoa(id), nil).status == 404
	})
}

// waitWithin polls cond until it holds or fails the test after bound.
func waitWithin(t *testing.T, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, bound)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
