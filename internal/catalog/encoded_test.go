package catalog_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"testing"

	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/httpx"
	"github.com/kaidian/kaidian/internal/shop"
)

// TestEncodedAnswersMatchEncodingJSON: the pages built from pre-encoded
// summaries and the cached product detail are byte for byte what
// httpx.WriteJSON writes for the same values (HTML characters, quotes and
// the next cursor included).
func TestEncodedAnswersMatchEncodingJSON(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Enterprise)
		cat := e.category(s, 0, "女装")
		svc := e.cat
		var last catalog.Product
		for _, title := range []string{`<b>"引号"</b> & 连衣裙`, "纯棉T恤", "法式复古长款连衣裙"} {
			last = e.create(s, simpleInput(cat, title, true))
		}
		ctx := context.Background()
		for _, q := range []catalog.ListQuery{{Limit: 2}, {Limit: 20}, {Text: "连衣裙"}, {Text: "没有"}} {
			page, err := svc.List(ctx, s, q)
			if err != nil {
				t.Fatal(err)
			}
			body, err := svc.ListJSON(ctx, s, q)
			if err != nil {
				t.Fatal(err)
			}
			if want := writeJSON(httpx.NewPage(page.Items, page.Next)); !bytes.Equal(body, want) {
				t.Fatalf("%+v:\n got %s\nwant %s", q, body, want)
			}
		}
		for range 2 { // a miss, then from the cache
			body, err := svc.ProductJSON(ctx, s, last.ID)
			if err != nil {
				t.Fatal(err)
			}
			p, err := svc.Product(ctx, s, last.ID, false)
			if err != nil {
				t.Fatal(err)
			}
			if want := writeJSON(p); !bytes.Equal(body, want) {
				t.Fatalf("detail:\n got %s\nwant %s", body, want)
			}
		}
	})
}

func writeJSON(v any) []byte {
	w := httptest.NewRecorder()
	httpx.WriteJSON(w, 200, v)
	return w.Body.Bytes()
}
