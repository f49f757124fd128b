package catalog

import (
	"context"
	"log/slog"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/search"
)

// Service is the catalog of every shop.
type Service struct {
	db    *db.DB
	shops Shops
	view  *view

	textCheck TextCheck // see SetTextCheck
	onHeld    HeldHook
}

// NewService returns the catalog. Call Load before serving and Run to keep
// the read model current.
func NewService(d *db.DB, shops Shops) *Service {
	return &Service{db: d, shops: shops, view: newView()}
}

// Load fills the read model from the database.
func (s *Service) Load(ctx context.Context) error {
	if err := s.view.sync(ctx, s.db); err != nil {
		return errs.Wrap("load catalog", err)
	}
	s.view.idx.Warm()
	return nil
}

// Run brings the read model up to date with other processes' changes every
// interval until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.view.sync(ctx, s.db); err != nil && ctx.Err() == nil {
				log.Warn("catalog sync failed", "err", err)
			}
		}
	}
}

// Sync brings the read model up to date now (tests and benchmarks).
func (s *Service) Sync(ctx context.Context) error { return s.view.sync(ctx, s.db) }

// ListQuery selects a page of a shop's products.
type ListQuery struct {
	Text       string // keywords; all must match
	CategoryID int64  // 0 = all; includes subcategories
	After      int64  // cursor
	Limit      int
	Staff      bool // include products off the shelf
	OffShelf   bool // staff: only products off the shelf
	OnShelf    bool // staff: only products on the shelf
}

// MaxQueryRunes bounds a search's keywords.
const MaxQueryRunes = 50

// List returns a page of shopID's products, newest first.
func (s *Service) List(ctx context.Context, shopID int64, q ListQuery) (Page, error) {
	if runes(q.Text) > MaxQueryRunes {
		return Page{}, errs.Field("q", "query_too_long", "search at most 50 characters")
	}
	sq := search.Query{ShopID: shopID, Text: q.Text, After: q.After, Limit: q.Limit, IncludeHidden: q.Staff && !q.OnShelf, OnlyHidden: q.Staff && q.OffShelf}
	if q.CategoryID != 0 {
		ids, err := s.categoryIDs(ctx, shopID, q.CategoryID)
		if err != nil {
			return Page{}, err
		}
		sq.CategoryIDs = ids
	}
	return s.view.search(sq), nil
}
