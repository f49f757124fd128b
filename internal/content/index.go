package content

import (
	"context"
	"database/sql"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// The access index: per shop, the catalogue's facts the access check
// needs (lesson → course, course → packages, plans' coverage, prices),
// loaded on first use and dropped when the shop's catalogue version moves:
// at once for an edit made by this process, on the next poll (Sync) for an
// edit made by another. So a catalogue change reaches every process within
// one sync interval.

type lessonFact struct {
	LessonInfo
	status    string
	publishAt int64
	sort      int
}

type courseFact struct {
	id        int64
	title     string
	status    string
	publishAt int64
	priceFen  int64
	days      int
	forSale   bool
	sort      int
	lessons   []int64 // in order, drafts too
	packages  []int64 // the packages bundling it
}

type bundleFact struct {
	title      string
	status     string
	publishAt  int64
	priceFen   int64
	days       int
	forSale    bool
	coversAll  bool
	discountBP int
	courses    map[int64]bool
}

type shopIndex struct {
	// details caches what the lesson route shows of each lesson opened
	// (lesson id → *lessonDetail): dropped with the index on any edit.
	details  sync.Map
	version  int64
	grace    time.Duration
	lessons  map[int64]*lessonFact
	courses  map[int64]*courseFact
	packages map[int64]*bundleFact
	plans    map[int64]*bundleFact
}

// indexes is a copy-on-write map: checks read it without a lock; loads
// and drops (rare) copy it under mu.
type indexes struct {
	s     *Service
	mu    sync.Mutex
	shops atomic.Pointer[map[int64]*shopIndex]
}

func newIndexes(s *Service) *indexes {
	x := &indexes{s: s}
	x.shops.Store(&map[int64]*shopIndex{})
	return x
}

// get returns the shop's index, loading it when absent.
func (x *indexes) get(ctx context.Context, shopID int64) (*shopIndex, error) {
	if idx := (*x.shops.Load())[shopID]; idx != nil {
		return idx, nil
	}
	idx, err := loadIndex(ctx, x.s.db, shopID)
	if err != nil {
		return nil, errs.Wrap("content index", err)
	}
	x.update(func(m map[int64]*shopIndex) {
		if cur := m[shopID]; cur == nil || cur.version < idx.version {
			m[shopID] = idx
		}
	})
	return idx, nil
}

// update changes a copy of the map and publishes it.
func (x *indexes) update(fn func(m map[int64]*shopIndex)) {
	x.mu.Lock()
	defer x.mu.Unlock()
	old := *x.shops.Load()
	m := make(map[int64]*shopIndex, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	fn(m)
	x.shops.Store(&m)
}

func (x *indexes) drop(shopID int64) {
	x.update(func(m map[int64]*shopIndex) { delete(m, shopID) })
}

// poll drops the indexes whose shop's version moved.
func (x *indexes) poll(ctx context.Context) error {
	rows, err := x.s.db.Query(ctx, `SELECT shop_id, version FROM content_versions`)
	if err != nil {
		return err
	}
	defer rows.Close()
	versions := map[int64]int64{}
	for rows.Next() {
		var shop, v int64
		if err := rows.Scan(&shop, &v); err != nil {
			return err
		}
		versions[shop] = v
	}
	if err := rows.Err(); err != nil {
		return err
	}
	x.update(func(m map[int64]*shopIndex) {
		for shop, idx := range m {
			if idx.version != versions[shop] {
				delete(m, shop)
			}
		}
	})
	return nil
}

// loadIndex reads the shop's catalogue facts (the version first: an edit
// committed while loading leaves the index older than the version, and the
// next poll drops it).
func loadIndex(ctx context.Context, d *db.DB, shopID int64) (*shopIndex, error) {
	idx := &shopIndex{lessons: map[int64]*lessonFact{}, courses: map[int64]*courseFact{}, packages: map[int64]*bundleFact{}, plans: map[int64]*bundleFact{}}
	err := d.QueryRow(ctx, `SELECT version FROM content_versions WHERE shop_id = ?`, shopID).Scan(&idx.version)
	if err != nil && !db.IsNoRows(err) {
		return nil, err
	}
	st, err := readSettings(ctx, d, shopID)
	if err != nil {
		return nil, err
	}
	idx.grace = time.Duration(st.GraceDays) * 24 * time.Hour
	if err := each(ctx, d, `SELECT id, title, status, publish_at, price_fen, days, for_sale, sort FROM content_courses WHERE shop_id = ?`, func(r db.Scanner) error {
		c := &courseFact{}
		err := r.Scan(&c.id, &c.title, &c.status, &c.publishAt, &c.priceFen, &c.days, &c.forSale, &c.sort)
		idx.courses[c.id] = c
		return err
	}, shopID); err != nil {
		return nil, err
	}
	if err := each(ctx, d, `SELECT id, course_id, kind, title, duration_sec, free, preview_sec, status, publish_at, sort FROM content_lessons WHERE shop_id = ?`, func(r db.Scanner) error {
		l := &lessonFact{LessonInfo: LessonInfo{ShopID: shopID}}
		err := r.Scan(&l.ID, &l.CourseID, &l.Kind, &l.Title, &l.DurationSec, &l.Free, &l.PreviewSec, &l.status, &l.publishAt, &l.sort)
		idx.lessons[l.ID] = l
		return err
	}, shopID); err != nil {
		return nil, err
	}
	if err := loadBundles(ctx, d, shopID, idx); err != nil {
		return nil, err
	}
	for _, l := range idx.lessons {
		if c := idx.courses[l.CourseID]; c != nil {
			c.lessons = append(c.lessons, l.ID)
		}
	}
	for _, c := range idx.courses {
		sort.Slice(c.lessons, func(i, j int) bool {
			a, b := idx.lessons[c.lessons[i]], idx.lessons[c.lessons[j]]
			return a.sort < b.sort || (a.sort == b.sort && a.ID < b.ID)
		})
	}
	return idx, nil
}

func loadBundles(ctx context.Context, d *db.DB, shopID int64, idx *shopIndex) error {
	err := each(ctx, d, `SELECT id, title, status, publish_at, price_fen, days, for_sale FROM content_packages WHERE shop_id = ?`, func(r db.Scanner) error {
		var id int64
		p := &bundleFact{courses: map[int64]bool{}}
		err := r.Scan(&id, &p.title, &p.status, &p.publishAt, &p.priceFen, &p.days, &p.forSale)
		idx.packages[id] = p
		return err
	}, shopID)
	if err != nil {
		return err
	}
	err = each(ctx, d, `SELECT id, name, status, publish_at, price_fen, days, for_sale, covers_all, discount_bp FROM content_plans WHERE shop_id = ?`, func(r db.Scanner) error {
		var id int64
		p := &bundleFact{courses: map[int64]bool{}}
		err := r.Scan(&id, &p.title, &p.status, &p.publishAt, &p.priceFen, &p.days, &p.forSale, &p.coversAll, &p.discountBP)
		idx.plans[id] = p
		return err
	}, shopID)
	if err != nil {
		return err
	}
	err = each(ctx, d, `SELECT package_id, course_id FROM content_package_courses WHERE shop_id = ? ORDER BY package_id`, func(r db.Scanner) error {
		var p, c int64
		if err := r.Scan(&p, &c); err != nil {
			return err
		}
		if b := idx.packages[p]; b != nil {
			b.courses[c] = true
		}
		if cf := idx.courses[c]; cf != nil {
			cf.packages = append(cf.packages, p)
		}
		return nil
	}, shopID)
	if err != nil {
		return err
	}
	return each(ctx, d, `SELECT plan_id, course_id FROM content_plan_courses WHERE shop_id = ?`, func(r db.Scanner) error {
		var p, c int64
		if err := r.Scan(&p, &c); err != nil {
			return err
		}
		if b := idx.plans[p]; b != nil {
			b.courses[c] = true
		}
		return nil
	}, shopID)
}

func each(ctx context.Context, q db.Querier, query string, fn func(db.Scanner) error, args ...any) error {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// The member cache: each member's unrevoked entitlements (a handful),
// kept for memberTTL. A grant or revoke in this process drops the entry at
// once and keeps the member uncached for tombstoneFor (the grant's
// transaction may not have committed yet); one in another process is seen
// by the poll of the entitlement log (Sync), and at the latest when the
// entry's TTL runs out. Time passing needs no invalidation: the cache holds
// dates, and each check compares them with now.
const (
	memberTTL    = 30 * time.Second
	tombstoneFor = 3 * time.Second
	cacheShards  = 64
	maxPerShard  = 20_000
)

type held struct {
	kind       string
	id         int64
	start, end int64 // end 0: no end
}

type memberEntry struct {
	ents    []held
	expires int64 // unix ms: reload after (or, for a tombstone, cache nothing before)
	tomb    bool
}

type memberKey struct{ shop, member int64 }

type cacheShard struct {
	mu sync.RWMutex
	m  map[memberKey]memberEntry
}

type memberCache struct {
	s      *Service
	shards [cacheShards]cacheShard
}

func newMemberCache(s *Service) *memberCache {
	c := &memberCache{s: s}
	for i := range c.shards {
		c.shards[i].m = map[memberKey]memberEntry{}
	}
	return c
}

func (c *memberCache) shard(k memberKey) *cacheShard {
	return &c.shards[uint64(k.member*31+k.shop)%cacheShards]
}

func (c *memberCache) invalidate(shopID, memberID int64) {
	k := memberKey{shopID, memberID}
	sh := c.shard(k)
	sh.mu.Lock()
	sh.m[k] = memberEntry{tomb: true, expires: c.s.now().Add(tombstoneFor).UnixMilli()}
	sh.mu.Unlock()
}

// get returns the member's unrevoked entitlements (now: the service's
// clock, read once per check).
func (c *memberCache) get(ctx context.Context, shopID, memberID int64, now time.Time) ([]held, error) {
	k := memberKey{shopID, memberID}
	sh := c.shard(k)
	wall := ms(now)
	sh.mu.RLock()
	e, ok := sh.m[k]
	sh.mu.RUnlock()
	if ok && !e.tomb && wall < e.expires {
		return e.ents, nil
	}
	ents, err := loadHeld(ctx, c.s.db, shopID, memberID)
	if err != nil {
		return nil, errs.Wrap("member entitlements", err)
	}
	sh.mu.Lock()
	if cur, ok := sh.m[k]; !ok || !cur.tomb || wall >= cur.expires {
		if len(sh.m) >= maxPerShard {
			clear(sh.m) // a crude bound on memory: the next checks reload
		}
		sh.m[k] = memberEntry{ents: ents, expires: wall + memberTTL.Milliseconds()}
	}
	sh.mu.Unlock()
	return ents, nil
}

func loadHeld(ctx context.Context, q db.Querier, shopID, memberID int64) ([]held, error) {
	return db.All(ctx, q, func(r db.Scanner) (held, error) {
		var h held
		var end sql.NullInt64
		err := r.Scan(&h.kind, &h.id, &h.start, &end)
		h.end = end.Int64
		return h, err
	}, `SELECT target_kind, target_id, starts_at, ends_at FROM content_entitlements WHERE shop_id = ? AND member_id = ? AND revoked_at IS NULL`,
		shopID, memberID)
}

// pollEvents drops the cached entitlements of members whose grants or
// revokes were logged since `since` (by any process).
func (c *memberCache) pollEvents(ctx context.Context, since int64) error {
	rows, err := c.s.db.Query(ctx, `SELECT DISTINCT shop_id, member_id FROM content_entitlement_events WHERE created_at >= ?`, since)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k memberKey
		if err := rows.Scan(&k.shop, &k.member); err != nil {
			return err
		}
		sh := c.shard(k)
		sh.mu.Lock()
		delete(sh.m, k)
		sh.mu.Unlock()
	}
	return rows.Err()
}

// SyncMargin is how far back each poll of the entitlement log reads beyond
// the previous poll (a transaction that commits late still logged its
// event at its own time).
const SyncMargin = 10 * time.Second

// Run polls every interval until ctx ends: the catalogue versions (an
// index is rebuilt after another process's edit) and the entitlement log
// (another process's grant or revoke drops the member's cached set). The
// staleness bound: a catalogue edit or a grant/revoke made by another
// process reaches this one within interval (a grant/revoke at the latest
// after memberTTL, 30 s, if its transaction committed more than SyncMargin
// after it was logged); this process's own changes apply at once.
func (s *Service) Run(ctx context.Context, interval time.Duration, log interface{ Error(string, ...any) }) {
	last := s.now()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := s.now()
		if err := s.Sync(ctx, last.Add(-SyncMargin)); err != nil {
			log.Error("content sync", "err", err)
			continue
		}
		last = now
	}
}

// Sync applies other processes' changes made since `since`.
func (s *Service) Sync(ctx context.Context, since time.Time) error {
	if err := s.index.poll(ctx); err != nil {
		return err
	}
	return s.cache.pollEvents(ctx, ms(since))
}
