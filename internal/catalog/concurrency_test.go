package catalog_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/shop"
)

// TestConcurrentCreates creates 20 products in one shop at once, while
// buyers search; every create must succeed (on SQLite too: no "database is
// locked") and every product must be listed.
func TestConcurrentCreates(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Enterprise)
		cat := e.category(s, 0, "连衣裙")
		const n = 20

		var wg sync.WaitGroup
		ids := make([]int64, n)
		errList := make([]error, n)
		stop := make(chan struct{})
		var readers sync.WaitGroup
		for range 2 {
			readers.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := e.cat.List(e.ctx, s, catalog.ListQuery{Text: "连衣裙", CategoryID: cat, Limit: 5}); err != nil {
						t.Errorf("concurrent list: %v", err)
						return
					}
				}
			})
		}
		for i := range n {
			wg.Go(func() {
				p, err := e.cat.CreateProduct(e.ctx, s, gridInput(cat, fmt.Sprintf("C%02d", i)))
				ids[i], errList[i] = p.ID, err
			})
		}
		wg.Wait()
		close(stop)
		readers.Wait()

		for i, err := range errList {
			if err != nil {
				t.Fatalf("create %d: %v", i, err)
			}
		}
		listed := e.listIDs(e.cat, s, catalog.ListQuery{Staff: true, Limit: 7})
		if len(listed) != n || !sameIDs(listed, ids) {
			t.Fatalf("listed %d products %v, want the %d created %v", len(listed), listed, n, ids)
		}
		if !slices.IsSortedFunc(listed, func(a, b int64) int { return int(b - a) }) {
			t.Fatalf("list not newest first: %v", listed)
		}
		if got := e.listIDs(e.cat, s, catalog.ListQuery{Text: "碎花"}); len(got) != n {
			t.Fatalf("buyer search found %d, want %d", len(got), n)
		}
		if spus, skus := e.count("spus"), e.count("skus"); spus != n || skus != 6*n {
			t.Fatalf("rows = %d spus, %d skus; want %d, %d", spus, skus, n, 6*n)
		}
	})
}
