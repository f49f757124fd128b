package demo_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/config"
	"github.com/kaidian/kaidian/internal/demo"
	"github.com/kaidian/kaidian/internal/server"
)

func TestSeedOnceWithAFullCatalog(t *testing.T) {
	data := t.TempDir()
	open := func() *server.Server {
		cfg, err := config.Load("demo", []string{"--data", data}, func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		s, err := server.New(context.Background(), cfg, slog.New(slog.DiscardHandler), server.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	if seeded, err := demo.Seed(context.Background(), s); !seeded || err != nil {
		t.Fatalf("first seed: %v %v", seeded, err)
	}
	page, err := s.Catalog.List(context.Background(), 1, catalog.ListQuery{Limit: 100})
	if err != nil || len(page.Items) < 20 {
		t.Fatalf("the demo shop has %d products (%v), want at least 20", len(page.Items), err)
	}
	categories := map[int64]bool{}
	for _, it := range page.Items {
		categories[it.CategoryID] = true
		p, err := s.Catalog.Product(context.Background(), 1, it.ID, false)
		if err != nil || len(p.SKUs) == 0 || !p.OnShelf {
			t.Fatalf("product %d: %v, %d SKUs", it.ID, err, len(p.SKUs))
		}
	}
	if len(categories) < 5 {
		t.Fatalf("products in %d categories, want several", len(categories))
	}
	dress, _ := s.Catalog.List(context.Background(), 1, catalog.ListQuery{Text: "连衣裙", Limit: 10})
	if len(dress.Items) != 3 {
		t.Fatalf("连衣裙 finds %d products, want 3", len(dress.Items))
	}
	s.Close()

	again := open()
	defer again.Close()
	if seeded, err := demo.Seed(context.Background(), again); seeded || err != nil {
		t.Fatalf("a second run must reuse the data: seeded %v, %v", seeded, err)
	}
	if res, err := again.Accounts.Login(context.Background(), demo.OwnerUser, demo.Password, "127.0.0.1"); err != nil || res.Account.ShopID != 1 {
		t.Fatalf("owner login: %v", err)
	}
}
