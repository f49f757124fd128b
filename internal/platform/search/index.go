// Package search is an in-memory inverted index for product titles.
//
// Chinese titles have no spaces between words, so the index does substring
// matching: every normalised document is indexed by its character unigrams
// and bigrams, a query word is looked up by its bigrams (or its unigram when
// it is a single character), the shortest posting list drives the walk, the
// others are probed, and the candidates are verified with a real substring
// test.
//
// Postings are per shop and hold compact uint32 slots kept sorted by
// document ID, so a page of results is read by walking the lists backwards
// from the cursor, without sorting or materialising all matches.
//
// The database stays the source of truth: the caller fills the index at
// start (Upsert in any order, then optionally Warm) and keeps it current.
package search

import "sync"

// Doc is one searchable product.
type Doc struct {
	ID         int64  // SPU id, unique across shops; higher = newer
	ShopID     int64  // owning shop; never changes for an ID
	CategoryID int64  // leaf category of the product
	Text       string // title + subtitle + keywords, joined by the caller
	Visible    bool   // on shelf and not deleted; hidden docs match only with Query.IncludeHidden
}

// Query selects one page of a shop's matching documents.
type Query struct {
	ShopID        int64
	Text          string  // space separated words, all must match; empty = every doc of the shop
	CategoryIDs   []int64 // optional filter (a category and its descendants)
	IncludeHidden bool    // also return docs with Visible == false
	OnlyHidden    bool    // return only docs with Visible == false
	After         int64   // cursor: only docs with ID < After (0 = from the newest)
	Limit         int     // page size, clamped to [1, MaxLimit]
}

// Result is one page of matches.
type Result struct {
	IDs  []int64 // newest first (descending ID); never nil
	Next int64   // cursor for the next page (Query.After), 0 when there are no more
}

// MaxLimit is the largest page size Search returns.
const MaxLimit = 100

// Index is a concurrency-safe inverted index over Docs of many shops.
// The zero value is not usable; call New.
type Index struct {
	mu     sync.RWMutex
	shards map[int64]*shard // by shop id
	byID   map[int64]docRef
}

// docRef locates a live document.
type docRef struct {
	shop int64
	slot uint32
}

// New returns an empty Index.
func New() *Index {
	return &Index{shards: make(map[int64]*shard), byID: make(map[int64]docRef)}
}

// Upsert inserts d or replaces the document with the same ID.
func (ix *Index) Upsert(d Doc) {
	e := entry{text: Normalize(d.Text), cat: d.CategoryID, alive: true, visible: d.Visible}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ref, ok := ix.byID[d.ID]; ok {
		if ref.shop == d.ShopID {
			ix.shards[ref.shop].update(ref.slot, e)
			return
		}
		ix.remove(d.ID, ref)
	}
	sh := ix.shards[d.ShopID]
	if sh == nil {
		sh = newShard()
		ix.shards[d.ShopID] = sh
	}
	ix.byID[d.ID] = docRef{shop: d.ShopID, slot: sh.add(d.ID, e)}
}

// Remove deletes the document with the given ID; unknown IDs are ignored.
func (ix *Index) Remove(id int64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ref, ok := ix.byID[id]; ok {
		ix.remove(id, ref)
	}
}

// remove deletes a live document; ix.mu must be held for writing.
func (ix *Index) remove(id int64, ref docRef) {
	delete(ix.byID, id)
	sh := ix.shards[ref.shop]
	sh.remove(ref.slot)
	switch {
	case sh.live == 0:
		delete(ix.shards, ref.shop)
	case sh.needsCompaction():
		remap := ix.renumber(ref.shop, sh)
		if !sh.stale {
			sh.remapPostings(remap)
		}
	}
}

// Len returns the number of documents in the index.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.byID)
}

// Warm builds the postings of every shop that has not been searched yet.
// The first Search of a shop does this lazily (until then a new shop's
// documents are only collected, which makes bulk loading cheap), so calling
// Warm is optional: call it after the bulk load at start so that the first
// searches do not pay for it.
func (ix *Index) Warm() {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for shop, sh := range ix.shards {
		if sh.stale {
			ix.build(shop, sh)
		}
	}
}

// Search returns one page of the query's matches, newest first.
func (ix *Index) Search(q Query) Result {
	p := newPlan(q)
	sh := ix.rlockShard(q.ShopID)
	defer ix.mu.RUnlock()
	if sh == nil {
		return Result{IDs: []int64{}}
	}
	return sh.search(p, q.After, clampLimit(q.Limit))
}

// rlockShard read-locks the index and returns the shop's shard (nil if the
// shop has no documents) with its postings built, building them first under
// the write lock if needed. The caller must RUnlock.
func (ix *Index) rlockShard(shop int64) *shard {
	for {
		ix.mu.RLock()
		sh := ix.shards[shop]
		if sh == nil || !sh.stale {
			return sh
		}
		ix.mu.RUnlock()
		ix.mu.Lock()
		if sh := ix.shards[shop]; sh != nil && sh.stale {
			ix.build(shop, sh)
		}
		ix.mu.Unlock()
	}
}

// build renumbers a stale shard and builds its postings; ix.mu must be held
// for writing.
func (ix *Index) build(shop int64, sh *shard) {
	ix.renumber(shop, sh)
	sh.reindex()
}

// renumber drops the shard's dead slots, renumbers the live ones and points
// byID at the new slots; ix.mu must be held for writing. It returns the
// old-to-new slot mapping.
func (ix *Index) renumber(shop int64, sh *shard) []uint32 {
	remap := sh.renumber()
	for slot, id := range sh.ids {
		ix.byID[id] = docRef{shop: shop, slot: uint32(slot)}
	}
	return remap
}

func clampLimit(n int) int {
	return min(max(n, 1), MaxLimit)
}
