package bench

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestProductsAreDeterministic(t *testing.T) {
	a, _ := NewDataset(Spec{Shops: 3, SPUs: 1000, SKUsPerSPU: 5, Seed: 7})
	b, _ := NewDataset(Spec{Shops: 3, SPUs: 1000, SKUsPerSPU: 5, Seed: 7})
	c, _ := NewDataset(Spec{Shops: 3, SPUs: 1000, SKUsPerSPU: 5, Seed: 8})
	same, titles := 0, map[string]bool{}
	for id := int64(1); id <= 1000; id++ {
		pa, pb := a.Product(id), b.Product(id)
		if !reflect.DeepEqual(pa, pb) {
			t.Fatalf("product %d differs between two datasets of the same seed", id)
		}
		if c.Product(id).Title == pa.Title {
			same++
		}
		titles[pa.Title] = true
	}
	if same > 100 {
		t.Errorf("%d of 1000 titles equal under another seed", same)
	}
	if len(titles) < 950 {
		t.Errorf("only %d distinct titles in 1000", len(titles))
	}
}

func TestProductShape(t *testing.T) {
	ds, err := NewDataset(Spec{Shops: 2, SPUs: 2000, SKUsPerSPU: 5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	inRange := 0
	for id := int64(1); id <= 2000; id++ {
		p := ds.Product(id)
		if n := utf8.RuneCountInString(p.Title); n >= minTitleRunes && n <= maxTitleRunes {
			inRange++
		}
		if p.ShopID != ds.ShopOf(id) || p.ShopID != (id-1)%2+1 {
			t.Fatalf("product %d in shop %d", id, p.ShopID)
		}
		shopCats := map[int64]int64{}
		for _, c := range ds.Categories(p.ShopID) {
			shopCats[c.ID] = c.ParentID
		}
		if parent, ok := shopCats[p.CategoryID]; !ok || parent != p.TopID || parent == 0 {
			t.Fatalf("product %d: category %d (top %d) is not a leaf of its shop", id, p.CategoryID, p.TopID)
		}
		var specs []struct {
			Name   string   `json:"name"`
			Values []string `json:"values"`
		}
		if err := json.Unmarshal([]byte(p.Specs), &specs); err != nil || len(specs) != 2 {
			t.Fatalf("product %d specs %s: %v", id, p.Specs, err)
		}
		if len(p.SKUs) != 5 || p.SKUs[0].ID != (id-1)*5+1 || p.SKUs[4].ID != id*5 {
			t.Fatalf("product %d SKUs %+v", id, p.SKUs)
		}
		for _, k := range p.SKUs {
			var vals []string
			if err := json.Unmarshal([]byte(k.SpecValues), &vals); err != nil || len(vals) != 2 {
				t.Fatalf("sku %d spec values %s", k.ID, k.SpecValues)
			}
			if k.Price < p.PriceMin || k.Price > p.PriceMax {
				t.Fatalf("sku %d price %d outside %d..%d", k.ID, k.Price, p.PriceMin, p.PriceMax)
			}
		}
	}
	if inRange < 1900 {
		t.Errorf("only %d of 2000 titles have 15 to 25 characters", inRange)
	}
}

func TestCategoriesTree(t *testing.T) {
	ds, _ := NewDataset(Spec{Shops: 2, SPUs: 10, SKUsPerSPU: 1})
	seen := map[int64]bool{}
	for shop := int64(1); shop <= 2; shop++ {
		cats := ds.Categories(shop)
		if len(cats) != CatsPerShop {
			t.Fatalf("shop %d has %d categories", shop, len(cats))
		}
		tops := 0
		for _, c := range cats {
			if seen[c.ID] {
				t.Fatalf("category id %d used twice", c.ID)
			}
			if c.ParentID != 0 && !seen[c.ParentID] {
				t.Fatalf("category %d comes before its parent %d", c.ID, c.ParentID)
			}
			seen[c.ID] = true
			if c.ParentID == 0 {
				tops++
			}
		}
		if tops != Tops {
			t.Fatalf("%d tops", tops)
		}
	}
}

func TestSpecValidation(t *testing.T) {
	for _, s := range []Spec{{Shops: 0, SPUs: 1, SKUsPerSPU: 1}, {Shops: 2, SPUs: 1, SKUsPerSPU: 1},
		{Shops: 1, SPUs: 1, SKUsPerSPU: 0}, {Shops: 1, SPUs: 1, SKUsPerSPU: MaxSKUsPerSPU + 1}} {
		if _, err := NewDataset(s); err == nil {
			t.Errorf("%+v accepted", s)
		}
	}
	ds, err := NewDataset(Spec{Shops: 1, SPUs: 3, SKUsPerSPU: MaxSKUsPerSPU})
	if err != nil || len(ds.Product(2).SKUs) != MaxSKUsPerSPU {
		t.Fatalf("max SKUs: %v", err)
	}
}

func TestRequestMixes(t *testing.T) {
	ds, _ := NewDataset(Spec{Shops: 3, SPUs: 1000, SKUsPerSPU: 5})
	r := rand.New(rand.NewPCG(1, 1))
	for range 500 {
		d := ds.DetailRequest(r)
		var id int64
		if _, err := fmt.Sscanf(d.Path, "/api/v1/products/%d", &id); err != nil || !OnShelf(id) || d.AppID != AppID(ds.ShopOf(id)) {
			t.Fatalf("detail %+v", d)
		}
		c := ds.CategoryRequest(r)
		if !strings.HasPrefix(c.Path, "/api/v1/products?category_id=") || !strings.HasSuffix(c.Path, "&limit=20") {
			t.Fatalf("category %+v", c)
		}
		s := ds.SearchRequest(r)
		if !strings.HasPrefix(s.Path, "/api/v1/products?q=") || s.AppID == "" {
			t.Fatalf("search %+v", s)
		}
	}
	if len(Vocabulary()) < 150 || len(Nouns()) != Tops*LeavesPerTop {
		t.Errorf("vocabulary %d words, %d nouns", len(Vocabulary()), len(Nouns()))
	}
}
