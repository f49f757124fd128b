package bench

import (
	"context"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
)

func TestLoad(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		// 600 SPUs: more than one INSERT of each table, a partial last one.
		ds, err := NewDataset(Spec{Shops: 2, SPUs: 600, SKUsPerSPU: 3, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		now := time.UnixMilli(1_800_000_000_000)
		var progress []int
		st, err := Load(ctx, d, ds, LoadOptions{Now: now, Progress: func(n int) { progress = append(progress, n) }})
		if err != nil {
			t.Fatal(err)
		}
		if st.Shops != 2 || st.Categories != 2*CatsPerShop || st.SPUs != 600 || st.SKUs != 1800 || len(progress) != 1 {
			t.Fatalf("stats %+v, progress %v", st, progress)
		}
		counts := map[string]int{"shops": 2, "categories": 2 * CatsPerShop, "spus": 600, "skus": 1800}
		for table, want := range counts {
			var n int
			if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil || n != want {
				t.Errorf("%s: %d rows (err %v), want %d", table, n, err, want)
			}
		}
		want := ds.Product(377)
		var title, specs string
		var shop, cat, updated int64
		var onShelf bool
		err = d.QueryRow(ctx, `SELECT title, specs, shop_id, category_id, on_shelf, updated_at FROM spus WHERE id = ?`, 377).
			Scan(&title, &specs, &shop, &cat, &onShelf, &updated)
		if err != nil {
			t.Fatal(err)
		}
		if title != want.Title || specs != want.Specs || shop != want.ShopID || cat != want.CategoryID || onShelf != want.OnShelf {
			t.Errorf("stored %q %s shop %d cat %d on %v; generated %+v", title, specs, shop, cat, onShelf, want)
		}
		if newest := now.Add(-time.Hour).UnixMilli(); updated >= newest || updated < newest-int64(180*24*time.Hour/time.Millisecond) {
			t.Errorf("updated_at %d outside the 180 days before %d", updated, newest)
		}
		var appid string
		if err := d.QueryRow(ctx, `SELECT appid FROM shops WHERE id = 2`).Scan(&appid); err != nil || appid != AppID(2) {
			t.Errorf("shop 2 appid %q (%v)", appid, err)
		}
		// Ids continue after the loaded ones (PostgreSQL sequences moved).
		var id int64
		err = d.QueryRow(ctx, `INSERT INTO skus (shop_id, spu_id, price, stock, created_at, updated_at)
			VALUES (1, 1, 1, 1, 1, 1) RETURNING id`).Scan(&id)
		if err != nil || id != 1801 {
			t.Errorf("next sku id %d (%v), want 1801", id, err)
		}
		if _, err := Load(ctx, d, ds, LoadOptions{}); err == nil {
			t.Error("a second load into the same database succeeded")
		}
	})
}
