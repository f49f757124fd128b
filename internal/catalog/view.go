package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/search"
)

// syncMargin re-reads changes this far behind the newest one seen, so a
// transaction that committed late, or a clock that lags on another server,
// is not missed.
const syncMargin = 30 * time.Second

// categoryTTL bounds how stale a cached category tree may be.
const categoryTTL = 2 * time.Second

// view is the in-memory read model behind browsing and search: the search
// index and a summary of every live product. The database is the truth;
// sync brings the view up to date with changes made by any process.
type view struct {
	idx     *search.Index
	details *detailCache

	mu        sync.RWMutex
	items     map[int64]viewItem
	watermark int64

	catMu sync.Mutex
	cats  map[int64]cachedCategories
}

// viewItem is a live product as lists show it: its Summary encoded once,
// so a page is answered by concatenation (no reflection per request).
type viewItem struct {
	shopID  int64
	updated int64
	onShelf bool
	enc     []byte // the Summary's JSON
}

type cachedCategories struct {
	flat []Category
	at   time.Time
}

func newView() *view {
	return &view{idx: search.New(), details: newDetailCache(DefaultDetailCacheBytes),
		items: map[int64]viewItem{}, cats: map[int64]cachedCategories{}}
}

// spuRow is what the view needs of a product row.
type spuRow struct {
	id, shopID, categoryID int64
	title, subtitle        string
	images                 string
	onShelf, deleted       bool
	priceMin, priceMax     int64
	updated                int64
}

func (v *view) apply(r spuRow) {
	enc := encodeSummary(Summary{ID: r.id, CategoryID: r.categoryID, Title: r.title, Subtitle: r.subtitle,
		Image: firstImage(r.images), PriceMin: r.priceMin, PriceMax: r.priceMax, OnShelf: r.onShelf})
	v.mu.Lock()
	defer v.mu.Unlock()
	// Skip only a row seen before. updated_at has millisecond resolution, so
	// a second write in the same millisecond must still be applied.
	if cur, ok := v.items[r.id]; ok && !r.deleted && cur.updated == r.updated && bytes.Equal(cur.enc, enc) {
		return
	}
	v.details.invalidate(r.id)
	if r.updated > v.watermark {
		v.watermark = r.updated
	}
	if r.deleted {
		delete(v.items, r.id)
		v.idx.Remove(r.id)
		return
	}
	v.items[r.id] = viewItem{shopID: r.shopID, updated: r.updated, onShelf: r.onShelf, enc: enc}
	v.idx.Upsert(search.Doc{ID: r.id, ShopID: r.shopID, CategoryID: r.categoryID,
		Text: r.title + " " + r.subtitle, Visible: r.onShelf})
}

func firstImage(imagesJSON string) string {
	var images []string
	if json.Unmarshal([]byte(imagesJSON), &images) != nil || len(images) == 0 {
		return ""
	}
	return images[0]
}

// put applies a product this process just wrote. Its cached detail goes
// even if the summary did not change (a new description, say).
func (v *view) put(shopID int64, p Product) {
	v.details.invalidate(p.ID)
	images, _ := json.Marshal(p.Images)
	v.apply(spuRow{id: p.ID, shopID: shopID, categoryID: p.CategoryID, title: p.Title, subtitle: p.Subtitle,
		images: string(images), onShelf: p.OnShelf, deleted: p.Deleted, priceMin: p.PriceMin, priceMax: p.PriceMax,
		updated: p.UpdatedAt.UnixMilli()})
}

// sync reads every product changed since the watermark (less the margin).
func (v *view) sync(ctx context.Context, d *db.DB) error {
	v.mu.RLock()
	since := v.watermark - syncMargin.Milliseconds()
	v.mu.RUnlock()
	rows, err := d.Query(ctx, `SELECT id, shop_id, category_id, title, subtitle, images, on_shelf,
		deleted_at IS NOT NULL, price_min, price_max, updated_at
		FROM spus WHERE updated_at >= ? ORDER BY updated_at, id`, since)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r spuRow
		if err := rows.Scan(&r.id, &r.shopID, &r.categoryID, &r.title, &r.subtitle, &r.images, &r.onShelf,
			&r.deleted, &r.priceMin, &r.priceMax, &r.updated); err != nil {
			return err
		}
		v.apply(r)
	}
	return rows.Err()
}

// encodeSummary encodes s as the API writes it (no HTML escaping).
func encodeSummary(s Summary) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a Summary always encodes
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// search runs q on the index and returns the encoded summaries of the page
// (shared: the caller must not change them) and the next cursor.
func (v *view) search(q search.Query) (items [][]byte, next int64) {
	res := v.idx.Search(q)
	items = make([][]byte, 0, len(res.IDs))
	v.mu.RLock()
	defer v.mu.RUnlock()
	for _, id := range res.IDs {
		if it, ok := v.items[id]; ok {
			items = append(items, it.enc)
		}
	}
	return items, res.Next
}

// categories returns shopID's flat category list, cached briefly.
func (v *view) categories(ctx context.Context, shopID int64, load func() ([]Category, error)) ([]Category, error) {
	v.catMu.Lock()
	c, ok := v.cats[shopID]
	v.catMu.Unlock()
	if ok && time.Since(c.at) < categoryTTL {
		return c.flat, nil
	}
	flat, err := load()
	if err != nil {
		return nil, err
	}
	v.catMu.Lock()
	v.cats[shopID] = cachedCategories{flat: flat, at: time.Now()}
	v.catMu.Unlock()
	return flat, nil
}

func (v *view) forgetCategories(shopID int64) {
	v.catMu.Lock()
	delete(v.cats, shopID)
	v.catMu.Unlock()
}

// forgetAllCategories drops every cached category tree, so that another
// process's category edit shows at the next read.
func (v *view) forgetAllCategories() {
	v.catMu.Lock()
	clear(v.cats)
	v.catMu.Unlock()
}

// shelfIDs returns the ids of the products on the shelf, newest first.
func (v *view) shelfIDs() []int64 {
	v.mu.RLock()
	ids := make([]int64, 0, len(v.items))
	for id, it := range v.items {
		if it.onShelf {
			ids = append(ids, id)
		}
	}
	v.mu.RUnlock()
	slices.Sort(ids)
	slices.Reverse(ids)
	return ids
}

// shopOf returns the shop of a live product.
func (v *view) shopOf(id int64) (int64, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	it, ok := v.items[id]
	return it.shopID, ok
}

// Summaries returns the live products of shopID among ids, in ids' order,
// as lists show them (deleted, unknown and other shops' ids are skipped;
// off-shelf ones come with OnShelf false). Read from memory, for other
// domains' read models (recommendations).
func (s *Service) Summaries(shopID int64, ids []int64) []Summary {
	encs := make([][]byte, 0, len(ids))
	s.view.mu.RLock()
	for _, id := range ids {
		if it, ok := s.view.items[id]; ok && it.shopID == shopID {
			encs = append(encs, it.enc)
		}
	}
	s.view.mu.RUnlock()
	out := make([]Summary, 0, len(encs))
	for _, enc := range encs {
		var sum Summary
		if json.Unmarshal(enc, &sum) == nil {
			out = append(out, sum)
		}
	}
	return out
}
