package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"

	"github.com/kaidian/kaidian/internal/platform/richtext"
)

// DefaultDetailCacheBytes is the default budget of the product-detail cache.
// A generated product with 5 SKUs encodes to about 1.2 KB, so 64 MiB holds
// some 50,000 products: the busy part of a large catalog, or all of a
// mid-size one, while `serve` with 1M SKUs stays within its memory goal.
const DefaultDetailCacheBytes = 64 << 20

// entryOverhead approximates what an entry costs beyond its JSON: the map
// slot, the entry and the slice header.
const entryOverhead = 96

// detailCache holds buyers' product-detail responses, encoded once, within
// a byte budget. An entry is dropped when its product changes (the view's
// sync, this process's writes, another process's notification) or its
// stock moves (the stock-ledger poll), so a buyer sees the stock of at most
// one sync interval ago; order creation always checks the database.
//
// Fills race with invalidations: a fill reads the database, then stores.
// If an invalidation ran in between, the read may predate the change, so
// the fill is served but not stored (epoch).
type detailCache struct {
	mu      sync.RWMutex
	budget  int64
	used    int64
	entries map[int64]detailEntry
	epoch   uint64
}

type detailEntry struct {
	shopID int64
	body   []byte // the JSON response, newline included
}

func newDetailCache(budget int64) *detailCache {
	return &detailCache{budget: budget, entries: map[int64]detailEntry{}}
}

func (c *detailCache) setBudget(b int64) {
	c.mu.Lock()
	c.budget = b
	c.evictLocked()
	c.mu.Unlock()
}

// get returns product id's body if cached for shopID, and the epoch a fill
// must pass to put otherwise.
func (c *detailCache) get(shopID, id int64) ([]byte, uint64, bool) {
	c.mu.RLock()
	e, ok := c.entries[id]
	epoch := c.epoch
	c.mu.RUnlock()
	if !ok || e.shopID != shopID {
		return nil, epoch, false
	}
	return e.body, epoch, true
}

// put stores body unless an invalidation happened since epoch was read.
func (c *detailCache) put(shopID, id int64, body []byte, epoch uint64) {
	size := int64(len(body)) + entryOverhead
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != epoch || size > c.budget {
		return
	}
	if old, ok := c.entries[id]; ok {
		c.used -= int64(len(old.body)) + entryOverhead
	}
	c.entries[id] = detailEntry{shopID: shopID, body: body}
	c.used += size
	c.evictLocked()
}

// evictLocked drops entries until the cache fits its budget. Map iteration
// starts at a random place, so this evicts at random: as good as LRU for
// uniform traffic and without its bookkeeping on every hit.
func (c *detailCache) evictLocked() {
	for id, e := range c.entries {
		if c.used <= c.budget {
			return
		}
		delete(c.entries, id)
		c.used -= int64(len(e.body)) + entryOverhead
	}
}

// invalidate drops the given products.
func (c *detailCache) invalidate(ids ...int64) {
	if len(ids) == 0 {
		return
	}
	c.mu.Lock()
	c.epoch++
	for _, id := range ids {
		if e, ok := c.entries[id]; ok {
			delete(c.entries, id)
			c.used -= int64(len(e.body)) + entryOverhead
		}
	}
	c.mu.Unlock()
}

func (c *detailCache) stats() (entries int, used int64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries), c.used
}

// encodeDetail encodes buyers' product detail p as httpx.WriteJSON would,
// with the description as <rich-text> nodes. It sanitizes again because
// rows written before descriptions were sanitized on save are still read.
func encodeDetail(p Product) ([]byte, error) {
	p.DescriptionNodes = richtext.Nodes(richtext.Sanitize(p.Description))
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ProductJSON returns the buyers' view of product id of shopID (on the
// shelf, not deleted) encoded as JSON, from the cache when it holds it.
func (s *Service) ProductJSON(ctx context.Context, shopID, id int64) ([]byte, error) {
	body, epoch, ok := s.view.details.get(shopID, id)
	if ok {
		return body, nil
	}
	p, err := s.Product(ctx, shopID, id, false)
	if err != nil {
		return nil, err
	}
	body, err = encodeDetail(p)
	if err != nil {
		return nil, err
	}
	s.view.details.put(shopID, id, body, epoch)
	return body, nil
}

// prefillBatch is how many products one prefill query reads.
const prefillBatch = 500

// prefillDetails fills the detail cache with the newest products on the
// shelf until its budget is nearly used, so that buyers' first visits after
// a start are served from memory too. It runs in the background at start;
// products changed meanwhile are skipped by the epoch check.
func (s *Service) prefillDetails(ctx context.Context) error {
	ids := s.view.shelfIDs()
	for end := 0; end < len(ids) && ctx.Err() == nil; end += prefillBatch {
		batch := ids[end:min(end+prefillBatch, len(ids))] // descending
		if s.view.details.nearlyFull() {
			return nil
		}
		if err := s.prefillRange(ctx, batch[len(batch)-1], batch[0]); err != nil {
			return err
		}
	}
	return nil
}

// prefillRange caches the products on the shelf with ids lo to hi.
func (s *Service) prefillRange(ctx context.Context, lo, hi int64) error {
	_, epoch, _ := s.view.details.get(0, 0)
	rows, err := s.db.Query(ctx, `SELECT p.id, p.category_id, p.title, p.subtitle, p.description, p.images, p.specs,
		p.on_shelf, p.sort, p.kind, p.price_min, p.price_max, p.deleted_at, p.created_at, p.updated_at,
		COALESCE(p.freight_template_id, 0), k.id, k.spec_values, k.price, k.stock, k.code, k.weight_grams
		FROM spus p LEFT JOIN skus k ON k.spu_id = p.id AND k.deleted_at IS NULL
		WHERE p.id >= ? AND p.id <= ? AND p.on_shelf = TRUE AND p.deleted_at IS NULL ORDER BY p.id, k.id`, lo, hi)
	if err != nil {
		return err
	}
	defer rows.Close()
	var p Product
	flush := func() {
		if p.ID == 0 {
			return
		}
		if shopID, ok := s.view.shopOf(p.ID); ok {
			if body, err := encodeDetail(p); err == nil {
				s.view.details.put(shopID, p.ID, body, epoch)
			}
		}
	}
	for rows.Next() {
		var row Product
		sku, err := scanProductRow(rows, &row, true)
		if err != nil {
			return err
		}
		if row.ID != p.ID {
			flush()
			p, p.SKUs = row, []SKU{}
		}
		if sku != nil {
			p.SKUs = append(p.SKUs, *sku)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	flush()
	return nil
}

// nearlyFull reports whether the cache has used 95% of its budget.
func (c *detailCache) nearlyFull() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.used >= c.budget/20*19
}
