package events

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Day is a business day: days since 1970-01-01 in Asia/Shanghai.
type Day int32

// DayOf is the business day of a Unix-ms time.
func DayOf(ms int64) Day {
	const dayMs, shift = 86_400_000, 8 * 3_600_000
	v := ms + shift
	d := v / dayMs
	if v%dayMs < 0 {
		d--
	}
	return Day(d)
}

// Start is the day's first millisecond (Unix ms).
func (d Day) Start() int64 { return int64(d)*86_400_000 - 8*3_600_000 }

// Index holds, per shop, event name and business day, the set of members
// who did it, as compressed bitmaps of member ids (member ids are dense
// database ids; an id over 2³² is counted in Skipped and left out). It is
// a read model: Sync builds it from the table at start and then adds the
// rows written since (by any process), polling by id.
type Index struct {
	db *db.DB

	mu      sync.RWMutex
	shops   map[int64]map[string]map[Day]*roaring.Bitmap
	lastID  int64
	marks   []mark // PostgreSQL: where recent polls ended (see horizon)
	skipped int64
}

type mark struct {
	at time.Time
	id int64
}

// NewIndex returns an empty index on d.
func NewIndex(d *db.DB) *Index {
	return &Index{db: d, shops: map[int64]map[string]map[Day]*roaring.Bitmap{}}
}

// pgLag is how long a PostgreSQL transaction may hold an id before
// committing and still be seen: ids come from a sequence at INSERT, so a
// row can commit after a row with a greater id. Polls re-read that far
// back (adding a member twice changes nothing). SQLite has one writer, so
// its ids commit in order.
const pgLag = 5 * time.Second

const pageRows = 20_000

// Sync adds the member events stored since the last Sync (all of them the
// first time).
func (x *Index) Sync(ctx context.Context) error {
	from := x.horizon()
	for {
		n, last, err := x.page(ctx, from)
		if err != nil {
			return errs.Wrap("sync bitmaps", err)
		}
		if last > from {
			from = last
		}
		if n < pageRows {
			break
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.lastID = max(x.lastID, from)
	if x.db.Engine == db.Postgres {
		x.marks = append(x.marks, mark{time.Now(), x.lastID})
	}
	return nil
}

// horizon is the id after which the next poll reads.
func (x *Index) horizon() int64 {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.db.Engine != db.Postgres || len(x.marks) == 0 {
		return x.lastID
	}
	cut := time.Now().Add(-pgLag)
	i := 0
	for i+1 < len(x.marks) && x.marks[i+1].at.Before(cut) {
		i++
	}
	x.marks = x.marks[i:]
	return x.marks[0].id
}

func (x *Index) page(ctx context.Context, from int64) (n int, last int64, err error) {
	rows, err := x.db.Query(ctx, `SELECT id, shop_id, member_id, name, at FROM analytics_events
		WHERE id > ? ORDER BY id LIMIT ?`, from, pageRows)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	type ev struct {
		shop, member, at int64
		name             string
	}
	batch := make([]ev, 0, 1024)
	for rows.Next() {
		var e ev
		if err := rows.Scan(&last, &e.shop, &e.member, &e.name, &e.at); err != nil {
			return 0, 0, err
		}
		n++
		if e.member > 0 {
			batch = append(batch, e)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, e := range batch {
		x.add(e.shop, e.member, e.name, e.at)
	}
	return n, last, nil
}

func (x *Index) add(shopID, memberID int64, name string, at int64) {
	if memberID > math.MaxUint32 {
		x.skipped++
		return
	}
	names := x.shops[shopID]
	if names == nil {
		names = map[string]map[Day]*roaring.Bitmap{}
		x.shops[shopID] = names
	}
	days := names[name]
	if days == nil {
		days = map[Day]*roaring.Bitmap{}
		names[name] = days
	}
	d := DayOf(at)
	b := days[d]
	if b == nil {
		b = roaring.New()
		days[d] = b
	}
	b.Add(uint32(memberID))
}

// Run syncs every interval until ctx ends.
func (x *Index) Run(ctx context.Context, every time.Duration, logErr func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := x.Sync(ctx); err != nil && ctx.Err() == nil {
				logErr(err)
			}
		}
	}
}

// Union is the members who did name on any day of [from, to] in shopID.
func (x *Index) Union(shopID int64, name string, from, to Day) *roaring.Bitmap {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.unionLocked(shopID, name, from, to)
}

func (x *Index) unionLocked(shopID int64, name string, from, to Day) *roaring.Bitmap {
	days := x.shops[shopID][name]
	var parts []*roaring.Bitmap
	if int(to-from) < len(days) {
		for d := from; d <= to; d++ {
			if b := days[d]; b != nil {
				parts = append(parts, b)
			}
		}
	} else {
		for d, b := range days {
			if d >= from && d <= to {
				parts = append(parts, b)
			}
		}
	}
	return roaring.FastOr(parts...)
}

// firstDays returns, for each day of [from, to], the members whose first
// name event (ever, as far as the index knows) was on that day.
func (x *Index) firstDays(shopID int64, name string, from, to Day) []*roaring.Bitmap {
	x.mu.RLock()
	defer x.mu.RUnlock()
	days := x.shops[shopID][name]
	var before []*roaring.Bitmap
	for d, b := range days {
		if d < from {
			before = append(before, b)
		}
	}
	seen := roaring.FastOr(before...)
	out := make([]*roaring.Bitmap, 0, int(to-from)+1)
	for d := from; d <= to; d++ {
		b := days[d]
		if b == nil {
			out = append(out, roaring.New())
			continue
		}
		fresh := roaring.AndNot(b, seen)
		seen.Or(b)
		out = append(out, fresh)
	}
	return out
}

// Stats describe the index's size.
type Stats struct {
	Bitmaps int    `json:"bitmaps"`
	Members uint64 `json:"members" doc:"set bits summed over the bitmaps"`
	Bytes   uint64 `json:"bytes" doc:"serialized size of the bitmaps"`
	LastID  int64  `json:"last_id"`
	Skipped int64  `json:"skipped" doc:"events of member ids over 2³², left out"`
}

// Stats reports the index's size.
func (x *Index) Stats() Stats {
	x.mu.RLock()
	defer x.mu.RUnlock()
	s := Stats{LastID: x.lastID, Skipped: x.skipped}
	for _, names := range x.shops {
		for _, days := range names {
			for _, b := range days {
				s.Bitmaps++
				s.Members += b.GetCardinality()
				s.Bytes += b.GetSizeInBytes()
			}
		}
	}
	return s
}
