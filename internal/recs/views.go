package recs

import (
	"context"
	"slices"
	"strconv"
	"sync"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Recently viewed products are recorded off the hot path: the product
// route only puts the view in a map (one mutex, no I/O); Run flushes the
// map in one transaction every interval. A view not yet flushed is still
// shown to the buyer by this process. Views are best-effort: a crash loses
// the last interval's, and past maxPending unflushed views new ones are
// dropped until the next flush.
const (
	maxViewed  = 50      // kept per buyer
	maxPending = 100_000 // unflushed views held in memory
)

type buyer struct{ shop, member int64 }

// viewLog holds unflushed views by buyer, then product, and the batches
// being written (still shown until their transaction has committed: a
// buyer reading between a flush's start and its commit saw neither).
type viewLog struct {
	mu       sync.Mutex
	pending  map[buyer]map[int64]int64
	n        int
	flushing map[int]map[buyer]map[int64]int64
	nextID   int
}

func newViewLog() *viewLog {
	return &viewLog{pending: map[buyer]map[int64]int64{}, flushing: map[int]map[buyer]map[int64]int64{}}
}

// put records a view unless it is older than the one held or the log is full.
func (v *viewLog) put(b buyer, spu, at int64) {
	m := v.pending[b]
	cur, ok := m[spu]
	if ok && cur >= at || !ok && v.n >= maxPending {
		return
	}
	if m == nil {
		m = map[int64]int64{}
		v.pending[b] = m
	}
	if !ok {
		v.n++
	}
	m[spu] = at
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// RecordView notes that a buyer opened a product (catalog calls it).
func (s *Service) RecordView(shopID, memberID, spuID int64) {
	at := s.now().UnixMilli()
	s.views.mu.Lock()
	s.views.put(buyer{shopID, memberID}, spuID, at)
	s.views.mu.Unlock()
}

// FlushViews writes the pending views: one row per buyer and product, the
// newest view wins; each buyer keeps the newest maxViewed.
func (s *Service) FlushViews(ctx context.Context) error {
	v := s.views
	v.mu.Lock()
	batch := v.pending
	v.pending, v.n = map[buyer]map[int64]int64{}, 0
	id := v.nextID
	v.nextID++
	v.flushing[id] = batch
	v.mu.Unlock()
	defer func() {
		v.mu.Lock()
		delete(v.flushing, id)
		v.mu.Unlock()
	}()
	if len(batch) == 0 {
		return nil
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		for b, spus := range batch {
			for spu, at := range spus {
				if _, err := tx.Exec(ctx, `INSERT INTO recent_views (shop_id, member_id, spu_id, viewed_at) VALUES (?, ?, ?, ?)
					ON CONFLICT (shop_id, member_id, spu_id) DO UPDATE SET viewed_at = excluded.viewed_at
					WHERE excluded.viewed_at > recent_views.viewed_at`, b.shop, b.member, spu, at); err != nil {
					return err
				}
			}
		}
		for m := range batch {
			if _, err := tx.Exec(ctx, `DELETE FROM recent_views WHERE shop_id = ? AND member_id = ? AND viewed_at <
				(SELECT viewed_at FROM recent_views WHERE shop_id = ? AND member_id = ? ORDER BY viewed_at DESC LIMIT 1 OFFSET ?)`,
				m.shop, m.member, m.shop, m.member, maxViewed-1); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.requeue(batch)
		return errs.Wrap("flush views", err)
	}
	return nil
}

// requeue puts back a batch that failed to flush (newer views win).
func (s *Service) requeue(batch map[buyer]map[int64]int64) {
	s.views.mu.Lock()
	defer s.views.mu.Unlock()
	for b, spus := range batch {
		for spu, at := range spus {
			s.views.put(b, spu, at)
		}
	}
}

type viewed struct {
	spu int64
	at  int64
}

// viewedBy returns a buyer's viewed products, newest first: the stored
// ones and this process's unflushed ones.
func (s *Service) viewedBy(ctx context.Context, shopID, memberID int64) ([]viewed, error) {
	list, err := db.All(ctx, s.db, func(r db.Scanner) (viewed, error) {
		var v viewed
		return v, r.Scan(&v.spu, &v.at)
	}, `SELECT spu_id, viewed_at FROM recent_views WHERE shop_id = ? AND member_id = ? ORDER BY viewed_at DESC LIMIT ?`,
		shopID, memberID, maxViewed)
	if err != nil {
		return nil, errs.Wrap("recently viewed", err)
	}
	s.views.mu.Lock()
	b := buyer{shopID, memberID}
	for spu, at := range s.views.pending[b] {
		list = append(list, viewed{spu, at})
	}
	for _, batch := range s.views.flushing {
		for spu, at := range batch[b] {
			list = append(list, viewed{spu, at})
		}
	}
	s.views.mu.Unlock()
	return newestDistinct(list), nil
}

func newestDistinct(list []viewed) []viewed {
	slices.SortStableFunc(list, func(a, b viewed) int { return cmpInt(b.at, a.at) })
	seen := map[int64]bool{}
	out := list[:0]
	for _, v := range list {
		if !seen[v.spu] {
			seen[v.spu] = true
			out = append(out, v)
		}
	}
	if len(out) > maxViewed {
		out = out[:maxViewed]
	}
	return out
}
