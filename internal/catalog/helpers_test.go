package catalog_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/secretbox"
	"github.com/kaidian/kaidian/internal/shop"
)

// env is one test's database with a shop service and a catalog on it.
type env struct {
	t     *testing.T
	ctx   context.Context
	d     *db.DB
	shops *shop.Service
	cat   *catalog.Service
}

func newEnv(t *testing.T, d *db.DB) *env {
	t.Helper()
	box, err := secretbox.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: t.Context(), d: d, shops: shop.NewService(d, box)}
	e.cat = e.newCatalog()
	return e
}

// newCatalog returns another catalog.Service on the same database, as a
// second server process would have.
func (e *env) newCatalog() *catalog.Service {
	e.t.Helper()
	c := catalog.NewService(e.d, e.shops)
	if err := c.Load(e.ctx); err != nil {
		e.t.Fatalf("load catalog: %v", err)
	}
	return c
}

var appIDs atomic.Int64

// shop creates a shop of the given subject type and returns its id.
func (e *env) shop(subject shop.SubjectType) int64 {
	e.t.Helper()
	n := appIDs.Add(1)
	sh, err := e.shops.Create(e.ctx, shop.CreateInput{
		Name: fmt.Sprintf("店铺%d", n), AppID: fmt.Sprintf("wx%016x", n), SubjectType: subject})
	if err != nil {
		e.t.Fatalf("create shop: %v", err)
	}
	return sh.ID
}

// category creates a category as staff (not an operator).
func (e *env) category(shopID, parent int64, name string) int64 {
	e.t.Helper()
	c, err := e.cat.CreateCategory(e.ctx, shopID, catalog.CategoryInput{ParentID: &parent, Name: &name}, false)
	if err != nil {
		e.t.Fatalf("create category %s: %v", name, err)
	}
	return c.ID
}

// gatedCategory creates a category that needs a brand authorization, as an
// operator.
func (e *env) gatedCategory(shopID int64, name string) int64 {
	e.t.Helper()
	gated := true
	c, err := e.cat.CreateCategory(e.ctx, shopID, catalog.CategoryInput{Name: &name, NeedsBrandAuth: &gated}, true)
	if err != nil {
		e.t.Fatalf("create gated category %s: %v", name, err)
	}
	if !c.NeedsBrandAuth {
		e.t.Fatalf("operator created %s without needs_brand_auth", name)
	}
	return c.ID
}

func (e *env) create(shopID int64, in catalog.ProductInput) catalog.Product {
	e.t.Helper()
	p, err := e.cat.CreateProduct(e.ctx, shopID, in)
	if err != nil {
		e.t.Fatalf("create product %q: %v", in.Title, err)
	}
	return p
}

// count returns the number of rows of table.
func (e *env) count(table string) int {
	e.t.Helper()
	var n int
	if err := e.d.QueryRow(e.ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		e.t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// listIDs walks every page of q on svc and returns the ids in order.
func (e *env) listIDs(svc *catalog.Service, shopID int64, q catalog.ListQuery) []int64 {
	e.t.Helper()
	if q.Limit == 0 {
		q.Limit = 100
	}
	var ids []int64
	for range 1000 {
		page, err := svc.List(e.ctx, shopID, q)
		if err != nil {
			e.t.Fatalf("list %+v: %v", q, err)
		}
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		if page.Next == 0 {
			return ids
		}
		q.After = page.Next
	}
	e.t.Fatalf("list %+v never ended", q)
	return nil
}

// gridInput is a dress with a 颜色 × 尺码 grid: 2 × 3 = 6 SKUs priced
// 9900 to 12900 fen, with codes that start with prefix.
func gridInput(categoryID int64, prefix string) catalog.ProductInput {
	in := catalog.ProductInput{
		CategoryID: categoryID,
		Title:      "夏季新款碎花连衣裙",
		Subtitle:   "雪纺 显瘦",
		Images:     []string{"https://img.example.com/dress-1.jpg", "https://img.example.com/dress-2.jpg"},
		Specs: []catalog.SpecDim{
			{Name: "颜色", Values: []string{"红", "蓝"}},
			{Name: "尺码", Values: []string{"S", "M", "L"}},
		},
		OnShelf: true,
	}
	price := int64(9900)
	for _, color := range in.Specs[0].Values {
		for _, size := range in.Specs[1].Values {
			in.SKUs = append(in.SKUs, catalog.SKUInput{
				SpecValues: []string{color, size}, Price: price, Stock: 10,
				Code: fmt.Sprintf("%s-%s-%s", prefix, color, size)})
			price += 600
		}
	}
	return in
}

// simpleInput is a product with one SKU and no specs.
func simpleInput(categoryID int64, title string, onShelf bool) catalog.ProductInput {
	return catalog.ProductInput{CategoryID: categoryID, Title: title, OnShelf: onShelf,
		SKUs: []catalog.SKUInput{{Price: 1990, Stock: 5}}}
}

// wantErr fails unless err is an *errs.Error of kind with code, naming
// every one of fields.
func wantErr(t *testing.T, err error, kind errs.Kind, code string, fields ...string) *errs.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	e := errs.As(err)
	if e.Code != code || e.Kind != kind {
		t.Fatalf("got %v (kind %d), want code %s kind %d", err, e.Kind, code, kind)
	}
	for _, f := range fields {
		if _, ok := e.Fields[f]; !ok {
			t.Fatalf("error %v: fields %v do not name %q", err, e.Fields, f)
		}
	}
	return e
}

func ptr[T any](v T) *T { return &v }

func sameIDs(a, b []int64) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
