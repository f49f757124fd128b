package catalog

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
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
	go func() {
		if err := s.prefillDetails(ctx); err != nil && ctx.Err() == nil {
			log.Warn("catalog: filling the product-detail cache failed", "err", err)
		}
	}()
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
	items, next, err := s.list(ctx, shopID, q)
	if err != nil {
		return Page{}, err
	}
	page := Page{Items: make([]Summary, len(items)), Next: next}
	for i, enc := range items {
		if err := json.Unmarshal(enc, &page.Items[i]); err != nil {
			return Page{}, errs.Wrap("list products", err)
		}
	}
	return page, nil
}

// ListJSON is List encoded as the API answers it (httpx.Page of Summary),
// built from the summaries the read model keeps encoded.
func (s *Service) ListJSON(ctx context.Context, shopID int64, q ListQuery) ([]byte, error) {
	items, next, err := s.list(ctx, shopID, q)
	if err != nil {
		return nil, err
	}
	size := 32
	for _, enc := range items {
		size += len(enc) + 1
	}
	body := make([]byte, 0, size)
	body = append(body, `{"items":[`...)
	for i, enc := range items {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, enc...)
	}
	body = append(body, ']')
	if next != 0 {
		cursor, _ := json.Marshal(httpx.EncodeCursor(next))
		body = append(append(body, `,"next_cursor":`...), cursor...)
	}
	return append(body, "}\n"...), nil
}

func (s *Service) list(ctx context.Context, shopID int64, q ListQuery) ([][]byte, int64, error) {
	if runes(q.Text) > MaxQueryRunes {
		return nil, 0, errs.Field("q", "query_too_long", "search at most 50 characters")
	}
	sq := search.Query{ShopID: shopID, Text: q.Text, After: q.After, Limit: q.Limit, IncludeHidden: q.Staff && !q.OnShelf, OnlyHidden: q.Staff && q.OffShelf}
	if q.CategoryID != 0 {
		ids, err := s.categoryIDs(ctx, shopID, q.CategoryID)
		if err != nil {
			return nil, 0, err
		}
		sq.CategoryIDs = ids
	}
	items, next := s.view.search(sq)
	return items, next, nil
}
