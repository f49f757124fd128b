package events

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/ratelimit"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

type fixture struct {
	d                    *db.DB
	svc                  *Service
	clock                *clock
	shopA, shopB, a1, b1 int64
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	f := &fixture{d: d, clock: &clock{t: time.Date(2026, 12, 7, 12, 0, 0, 0, china)}}
	f.svc = NewService(d, ratelimit.New(d))
	f.svc.now = f.clock.now
	f.shopA, f.shopB = db.TestShop(t, d, "wxa"), db.TestShop(t, d, "wxb")
	f.a1, f.b1 = db.TestMember(t, d, f.shopA, "a1"), db.TestMember(t, d, f.shopB, "b1")
	return f
}

// batch builds a raw batch from events given as JSON.
func batch(sentAt int64, events ...string) rawBatch {
	b := rawBatch{SentAt: sentAt}
	for _, e := range events {
		b.Events = append(b.Events, json.RawMessage(e))
	}
	return b
}

func (f *fixture) count(t *testing.T, shopID int64, where string, args ...any) int {
	t.Helper()
	var n int
	if err := f.d.QueryRow(context.Background(), `SELECT COUNT(*) FROM analytics_events WHERE shop_id = ? AND `+where,
		append([]any{shopID}, args...)...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func codes(res Result) map[int]string {
	m := map[int]string{}
	for _, r := range res.Rejected {
		m[r.Index] = r.Code
	}
	return m
}

// TestIngestKeepsGoodEventsAndReportsBadOnesByIndex: one batch with every
// kind of bad event; the good ones are stored, the bad ones listed with
// their codes, a repeated event_id counted as a duplicate.
func TestIngestKeepsGoodEventsAndReportsBadOnesByIndex(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f, ctx := newFixture(t, d), context.Background()
		now := f.clock.now().UnixMilli()
		deep := `{"a":{"b":{"c":{"d":{"e":1}}}}}`
		big := `{"x":"` + strings.Repeat("y", MaxPropsBytes) + `"}`
		res, err := f.svc.Ingest(ctx, f.shopA, f.a1, "1.2.3.4", batch(0,
			fmt.Sprintf(`{"event_id":"ev-000001","name":"page_view","time":%d,"page":"pages/index","props":{"k":[1,2]}}`, now-1000), // 0 good
			`{"event_id":"ev-000001","name":"page_view"}`,                                      // 1 duplicate in batch
			`{"event_id":"ev-000002","name":"Page View"}`,                                      // 2 invalid_name
			`{"event_id":"ev-000003","name":"order_paid"}`,                                     // 3 reserved_name
			`{"event_id":"ev-000004","name":"tap","props":`+deep+`}`,                           // 4 props_too_deep
			`{"event_id":"ev-000005","name":"tap","props":`+big+`}`,                            // 5 props_too_large
			fmt.Sprintf(`{"event_id":"ev-000006","name":"tap","time":%d}`, now+25*3600*1000),   // 6 future
			fmt.Sprintf(`{"event_id":"ev-000007","name":"tap","time":%d}`, now-8*24*3600*1000), // 7 too old
			`5`, // 8 invalid_event
			`{"event_id":"ev-000009","name":"tap","extra":1}`,   // 9 invalid_event (unknown field)
			`{"event_id":"short","name":"tap"}`,                 // 10 invalid_event_id
			`{"event_id":"ev-000011","name":"tap","props":[1]}`, // 11 props_not_object
			`{"event_id":"ev-000012","name":"my_custom_thing"}`, // 12 good, unknown name
		))
		if err != nil {
			t.Fatal(err)
		}
		want := map[int]string{2: "invalid_name", 3: "reserved_name", 4: "props_too_deep", 5: "props_too_large",
			6: "event_time_future", 7: "event_time_too_old", 8: "invalid_event", 9: "invalid_event", 10: "invalid_event_id", 11: "props_not_object"}
		if got := codes(res); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("rejected %v, want %v", got, want)
		}
		if res.Accepted != 2 || res.Duplicates != 1 || fmt.Sprint(res.UnknownNames) != "[my_custom_thing]" {
			t.Fatalf("result %+v", res)
		}
		if n := f.count(t, f.shopA, "source = 'client'"); n != 2 {
			t.Fatalf("%d rows stored, want 2", n)
		}
		// The same batch again: nothing new, both duplicates.
		res, err = f.svc.Ingest(ctx, f.shopA, f.a1, "1.2.3.4", batch(0, `{"event_id":"ev-000001","name":"page_view"}`,
			`{"event_id":"ev-000012","name":"my_custom_thing"}`))
		if err != nil || res.Accepted != 0 || res.Duplicates != 2 {
			t.Fatalf("replay: %+v %v", res, err)
		}
		unknown, err := f.svc.ListUnknown(ctx, f.shopA, 0, 100)
		if err != nil || len(unknown) != 1 || unknown[0].Name != "my_custom_thing" {
			t.Fatalf("unknown names %+v %v", unknown, err)
		}
		if other, _ := f.svc.ListUnknown(ctx, f.shopB, 0, 100); len(other) != 0 {
			t.Fatalf("shop B sees shop A's unknown names: %+v", other)
		}
	})
}

// TestIngestRefusesABatchWithNothingGood: 400 with every event's code, and
// nothing written; empty and oversized batches too.
func TestIngestRefusesABatchWithNothingGood(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f, ctx := newFixture(t, d), context.Background()
		_, err := f.svc.Ingest(ctx, f.shopA, f.a1, "", batch(0, `{"event_id":"ev-000001","name":"BAD"}`, `"x"`))
		if e := errs.As(err); e == nil || e.Code != "batch_rejected" || len(e.Fields) != 2 {
			t.Fatalf("got %v", err)
		}
		_, err = f.svc.Ingest(ctx, f.shopA, f.a1, "", batch(0))
		if !errs.Is(err, "invalid_batch_size") {
			t.Fatalf("empty batch: %v", err)
		}
		many := make([]string, MaxBatchEvents+1)
		for i := range many {
			many[i] = fmt.Sprintf(`{"event_id":"ev-%06d","name":"tap"}`, i)
		}
		if _, err = f.svc.Ingest(ctx, f.shopA, f.a1, "", batch(0, many...)); !errs.Is(err, "invalid_batch_size") {
			t.Fatalf("101 events: %v", err)
		}
		if n := f.count(t, f.shopA, "1 = 1"); n != 0 {
			t.Fatalf("%d rows written", n)
		}
	})
}

// TestClockSkew: a client whose clock is 2 hours fast (sent_at says so)
// has its events moved back by the offset; within a minute the client's
// time stands; ahead of the server without sent_at, the server's time.
func TestClockSkew(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f, ctx := newFixture(t, d), context.Background()
		now := f.clock.now().UnixMilli()
		fast := int64(2 * 3600 * 1000)
		at := func(id string) int64 {
			var v int64
			if err := d.QueryRow(ctx, `SELECT at FROM analytics_events WHERE shop_id = ? AND event_id = ?`, f.shopA, id).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		if _, err := f.svc.Ingest(ctx, f.shopA, f.a1, "", batch(now+fast,
			fmt.Sprintf(`{"event_id":"skewed-1","name":"tap","time":%d}`, now+fast-5000))); err != nil {
			t.Fatal(err)
		}
		if got := at("skewed-1"); got != now-5000 {
			t.Fatalf("skewed event at %d, want %d", got, now-5000)
		}
		if _, err := f.svc.Ingest(ctx, f.shopA, f.a1, "", batch(now+30_000,
			fmt.Sprintf(`{"event_id":"closeby-1","name":"tap","time":%d}`, now-7000))); err != nil {
			t.Fatal(err)
		}
		if got := at("closeby-1"); got != now-7000 {
			t.Fatalf("event within the bound at %d, want the client's %d", got, now-7000)
		}
		if _, err := f.svc.Ingest(ctx, f.shopA, f.a1, "", batch(0,
			fmt.Sprintf(`{"event_id":"ahead-01","name":"tap","time":%d}`, now+3600_000), `{"event_id":"notime-1","name":"tap"}`)); err != nil {
			t.Fatal(err)
		}
		if got := at("ahead-01"); got != now {
			t.Fatalf("event an hour ahead at %d, want the server's %d", got, now)
		}
		if got := at("notime-1"); got != now {
			t.Fatalf("event without time at %d, want %d", got, now)
		}
	})
}

// TestEventIDsArePerShop: the same event_id in two shops is two events;
// each shop's rows carry its own member.
func TestEventIDsArePerShop(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f, ctx := newFixture(t, d), context.Background()
		for _, c := range []struct{ shop, member int64 }{{f.shopA, f.a1}, {f.shopB, f.b1}} {
			res, err := f.svc.Ingest(ctx, c.shop, c.member, "", batch(0, `{"event_id":"same-id-1","name":"tap"}`))
			if err != nil || res.Accepted != 1 {
				t.Fatalf("shop %d: %+v %v", c.shop, res, err)
			}
		}
		if f.count(t, f.shopA, "member_id = ?", f.a1) != 1 || f.count(t, f.shopB, "member_id = ?", f.b1) != 1 {
			t.Fatal("each shop should hold its own event")
		}
	})
}

// TestIngestIsRateLimitedPerMember: over the limit, 429 with a wait, and
// another member is not held back.
func TestIngestIsRateLimitedPerMember(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f, ctx := newFixture(t, d), context.Background()
		f.svc.SetLimits(Limits{PerMember: 2, PerAddress: 100})
		for i := range 2 {
			if _, err := f.svc.Ingest(ctx, f.shopA, f.a1, "", batch(0, fmt.Sprintf(`{"event_id":"rate-%04d","name":"tap"}`, i))); err != nil {
				t.Fatal(err)
			}
		}
		_, err := f.svc.Ingest(ctx, f.shopA, f.a1, "", batch(0, `{"event_id":"rate-9999","name":"tap"}`))
		if e := errs.As(err); e == nil || e.Kind != errs.RateLimited || e.RetryAfter <= 0 {
			t.Fatalf("third batch: %v", err)
		}
		a2 := db.TestMember(t, d, f.shopA, "a2")
		if _, err := f.svc.Ingest(ctx, f.shopA, a2, "", batch(0, `{"event_id":"rate-a2-1","name":"tap"}`)); err != nil {
			t.Fatalf("another member: %v", err)
		}
	})
}

// TestServerEventsAreWrittenOnceInTheChangesTransaction: a hook's event is
// written with the transaction and gone when it rolls back; a retried
// change writes it once.
func TestServerEventsAreWrittenOnceInTheChangesTransaction(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f, ctx := newFixture(t, d), context.Background()
		paid := order.PaidOrder{ShopID: f.shopA, OrderID: 42, MemberID: f.a1, Amount: 990, PaidAt: f.clock.now()}
		boom := fmt.Errorf("boom")
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			if err := f.svc.OrderPaid(ctx, tx, paid); err != nil {
				return err
			}
			return boom
		}); err != boom {
			t.Fatal(err)
		}
		if n := f.count(t, f.shopA, "name = 'order_paid'"); n != 0 {
			t.Fatalf("rolled back, yet %d rows", n)
		}
		for range 2 {
			if err := d.InTx(ctx, func(tx *db.Tx) error { return f.svc.OrderPaid(ctx, tx, paid) }); err != nil {
				t.Fatal(err)
			}
		}
		if n := f.count(t, f.shopA, "name = 'order_paid' AND source = 'server' AND member_id = ?", f.a1); n != 1 {
			t.Fatalf("%d order_paid rows, want 1", n)
		}
		for _, r := range []order.RefundedOrder{{ShopID: f.shopA, OrderID: 42, MemberID: f.a1, PaidAmount: 990, RefundedOK: 100},
			{ShopID: f.shopA, OrderID: 42, MemberID: f.a1, PaidAmount: 990, RefundedOK: 990}} {
			if err := d.InTx(ctx, func(tx *db.Tx) error { return f.svc.OrderRefunded(ctx, tx, r) }); err != nil {
				t.Fatal(err)
			}
		}
		if n := f.count(t, f.shopA, "name = 'order_refunded'"); n != 2 {
			t.Fatalf("%d refund events, want one per refund", n)
		}
	})
}

// TestConcurrentBatchesStoreEachEventOnce: batches that overlap, sent at
// once (a client retrying while the first send is in flight), store each
// event_id once and count every other copy as a duplicate.
func TestConcurrentBatchesStoreEachEventOnce(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f, ctx := newFixture(t, d), context.Background()
		f.svc.SetLimits(Limits{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		accepted, duplicates := 0, 0
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var evs []string
				for i := range 20 {
					evs = append(evs, fmt.Sprintf(`{"event_id":"conc-%04d","name":"tap"}`, (g%2)*10+i)) // ids 0..29, overlapping
				}
				res, err := f.svc.Ingest(ctx, f.shopA, f.a1, "", batch(0, evs...))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				accepted, duplicates = accepted+res.Accepted, duplicates+res.Duplicates
				mu.Unlock()
			}()
		}
		wg.Wait()
		if n := f.count(t, f.shopA, "event_id LIKE 'conc-%'"); n != 30 || accepted != 30 || duplicates != 8*20-30 {
			t.Fatalf("%d rows, %d accepted, %d duplicates; want 30, 30, %d", n, accepted, duplicates, 8*20-30)
		}
	})
}

// TestAnonymousEventsNeedTheirDeviceID: before login (member 0) each event
// names its device; it is stored with member 0.
func TestAnonymousEventsNeedTheirDeviceID(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f, ctx := newFixture(t, d), context.Background()
		res, err := f.svc.Ingest(ctx, f.shopA, 0, "1.2.3.4", batch(0, `{"event_id":"anon-0001","name":"app_launch","anonymous_id":"dev-1"}`,
			`{"event_id":"anon-0002","name":"app_launch"}`))
		if err != nil || res.Accepted != 1 || codes(res)[1] != "invalid_field" {
			t.Fatalf("%+v %v", res, err)
		}
		if n := f.count(t, f.shopA, "member_id = 0 AND anon_id = 'dev-1'"); n != 1 {
			t.Fatalf("%d anonymous rows", n)
		}
	})
}
