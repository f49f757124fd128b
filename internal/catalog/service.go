package catalog

import (
	"context"
	"log/slog"
	"sync"
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

	// syncMu serialises catching up (the poll, notifications, Sync).
	syncMu sync.Mutex
	stock  stockPoll
	wake   chan struct{} // a notification arrived: catch up now

	textCheck TextCheck // see SetTextCheck
	onHeld    HeldHook
}

// NewService returns the catalog. Call Load before serving and Run to keep
// the read model current.
func NewService(d *db.DB, shops Shops) *Service {
	return &Service{db: d, shops: shops, view: newView(), wake: make(chan struct{}, 1)}
}

// SetDetailCacheBytes sets the memory budget of the buyers' product-detail
// cache (0 turns it off).
func (s *Service) SetDetailCacheBytes(n int64) { s.view.details.setBudget(n) }

// Load fills the read model from the database.
func (s *Service) Load(ctx context.Context) error {
	if err := s.stock.start(ctx, s.db); err != nil {
		return errs.Wrap("load catalog", err)
	}
	if err := s.view.sync(ctx, s.db); err != nil {
		return errs.Wrap("load catalog", err)
	}
	s.view.idx.Warm()
	return nil
}

// Run brings the read model up to date with other processes' changes every
// interval, and at once when PostgreSQL notifies a catalog write (see
// migration 0043), until ctx ends. The poll stays as the fallback: SQLite
// has no notifications, and a notification sent while the listening
// connection was down is lost.
func (s *Service) Run(ctx context.Context, interval time.Duration, log *slog.Logger) {
	go s.db.Listen(ctx, notifyChannel, func(string) {
		select {
		case s.wake <- struct{}{}:
		default: // a catch-up is already due; it will see this change too
		}
	})
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
		if err := s.Sync(ctx); err != nil && ctx.Err() == nil {
			log.Warn("catalog sync failed", "err", err)
		}
	}
}

// notifyChannel is where catalog writes notify (migration 0043).
const notifyChannel = "kaidian_catalog"

// Sync brings the read model up to date now: products changed by any
// process, and the cached details of products whose stock moved.
func (s *Service) Sync(ctx context.Context) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if err := s.view.sync(ctx, s.db); err != nil {
		return err
	}
	s.view.forgetAllCategories()
	moved, err := s.stock.poll(ctx, s.db)
	s.view.details.invalidate(moved...)
	return err
}

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
