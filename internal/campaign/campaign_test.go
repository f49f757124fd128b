package campaign

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// fakeSegments: segment 7 of each shop is all its members.
type fakeSegments struct{ d *db.DB }

func (f fakeSegments) MemberIDs(ctx context.Context, shopID, segmentID, after int64, limit int) ([]int64, error) {
	if segmentID != 7 {
		return nil, errs.E(errs.NotFound, "segment_not_found", "no such segment")
	}
	return db.All(ctx, f.d, func(r db.Scanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, `SELECT id FROM members WHERE shop_id = ? AND id > ? ORDER BY id LIMIT ?`, shopID, after, limit)
}

// outbox records the messages notify queued (committed or not: failAt
// makes the nth call fail, rolling its batch back).
type outbox struct {
	mu     sync.Mutex
	sent   map[[2]int64]int // campaign, member → calls
	calls  int
	failAt int
}

func (o *outbox) notify(_ context.Context, _ *db.Tx, m Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls++
	if o.failAt > 0 && o.calls == o.failAt {
		return errors.New("crash")
	}
	o.sent[[2]int64{m.CampaignID, m.MemberID}]++
	return nil
}

type fixture struct {
	d           *db.DB
	s           *Service
	box         *outbox
	shop, other int64
	members     []int64
	clock       time.Time
}

func newFixture(t *testing.T, d *db.DB, n int) *fixture {
	t.Helper()
	f := &fixture{d: d, box: &outbox{sent: map[[2]int64]int{}}, clock: time.Date(2026, 12, 7, 10, 0, 0, 0, china)}
	f.s = NewService(d, fakeSegments{d}, f.box.notify)
	f.s.SetClock(func() time.Time { return f.clock })
	f.shop, f.other = db.TestShop(t, d, "wx0000000000000ca1"), db.TestShop(t, d, "wx0000000000000ca2")
	ctx := context.Background()
	err := d.InTx(ctx, func(tx *db.Tx) error {
		for i := range n {
			var id int64
			if err := tx.QueryRow(ctx, `INSERT INTO members (shop_id, openid, created_at, updated_at) VALUES (?, ?, 0, 0) RETURNING id`,
				f.shop, fmt.Sprintf("c%d", i)).Scan(&id); err != nil {
				return err
			}
			f.members = append(f.members, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) campaign(t *testing.T, in Input) Campaign {
	t.Helper()
	if in.Name == "" {
		in = Input{Name: "双12", SegmentID: 7, Title: "会员日", Body: "全场满 199 减 30", PerDayCap: in.PerDayCap, PerWeekCap: in.PerWeekCap, PerMinute: in.PerMinute}
	}
	c, err := f.s.Create(context.Background(), f.shop, in)
	if err != nil {
		t.Fatal(err)
	}
	if c, err = f.s.Start(context.Background(), f.shop, c.ID); err != nil || c.State != Scheduled {
		t.Fatalf("start: %+v %v", c, err)
	}
	return c
}

func (f *fixture) runUntilDone(t *testing.T, id int64) Campaign {
	t.Helper()
	for range 100 {
		if _, err := f.s.RunDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		c, _ := f.s.Get(context.Background(), f.shop, id)
		if c.State == Done || c.State == Cancelled {
			return c
		}
	}
	t.Fatal("the campaign never finished")
	return Campaign{}
}

func TestACampaignQueuesEveryMemberOnce(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, 2500)
		c := f.campaign(t, Input{})
		// Two processes running the job at once: each batch goes to one.
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 5 {
					if _, err := f.s.RunDue(context.Background()); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		done := f.runUntilDone(t, c.ID)
		if done.Queued != 2500 || len(f.box.sent) != 2500 {
			t.Fatalf("queued %d, %d members got it", done.Queued, len(f.box.sent))
		}
		for k, n := range f.box.sent {
			if n != 1 {
				t.Fatalf("member %d got the campaign %d times", k[1], n)
			}
		}
	})
}

// TestACrashMidBatchLeavesNothingHalfDone: a failure while queueing a
// batch (a process killed in its transaction) rolls the batch back with
// its cursor; the next pass queues it whole, once.
func TestACrashMidBatchLeavesNothingHalfDone(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, 300)
		f.box.failAt = 150
		c := f.campaign(t, Input{})
		if _, err := f.s.RunDue(context.Background()); err == nil {
			t.Fatal("the failing pass reported no error")
		}
		var recipients int
		if err := d.QueryRow(context.Background(), `SELECT COUNT(*) FROM campaign_recipients WHERE campaign_id = ?`, c.ID).Scan(&recipients); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.s.Get(context.Background(), f.shop, c.ID); recipients != 0 || got.Queued != 0 {
			t.Fatalf("a rolled-back batch left %d recipients, %d counted", recipients, got.Queued)
		}
		f.box.sent = map[[2]int64]int{} // what the crashed transaction "sent" was never committed
		done := f.runUntilDone(t, c.ID)
		if done.Queued != 300 || len(f.box.sent) != 300 {
			t.Fatalf("after the restart: queued %d, %d members", done.Queued, len(f.box.sent))
		}
	})
}

func TestQuietHoursCapsAndOptOuts(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, 10)
		ctx := context.Background()
		if _, err := d.Exec(ctx, `INSERT INTO sms_optouts (shop_id, member_id, source, created_at) VALUES (?, ?, 'buyer', 0)`,
			f.shop, f.members[0]); err != nil {
			t.Fatal(err)
		}
		f.clock = time.Date(2026, 12, 7, 23, 0, 0, 0, china) // quiet (22:00–08:00)
		first := f.campaign(t, Input{})
		if n, err := f.s.RunDue(ctx); err != nil || n != 0 {
			t.Fatalf("queued %d in quiet hours: %v", n, err)
		}
		dry, err := f.s.DryRunOf(ctx, f.shop, first.ID)
		if err != nil || dry.Members != 10 || dry.OptedOut != 1 || dry.WouldGet != 9 {
			t.Fatalf("dry run %+v %v", dry, err)
		}
		f.clock = time.Date(2026, 12, 8, 9, 0, 0, 0, china)
		if done := f.runUntilDone(t, first.ID); done.Queued != 9 || done.SkippedOptOut != 1 {
			t.Fatalf("first campaign %+v", done)
		}
		// A second campaign the same day: everyone had their one a day.
		second := f.campaign(t, Input{})
		if dry, _ := f.s.DryRunOf(ctx, f.shop, second.ID); dry.Capped != 9 || dry.WouldGet != 0 {
			t.Fatalf("dry run of the second %+v", dry)
		}
		if done := f.runUntilDone(t, second.ID); done.Queued != 0 || done.SkippedCap != 9 {
			t.Fatalf("second campaign %+v", done)
		}
		// The next day, with no caps, a third goes to the 9.
		f.clock = f.clock.Add(25 * time.Hour)
		zero := 0
		third := f.campaign(t, Input{PerDayCap: &zero, PerWeekCap: &zero})
		if done := f.runUntilDone(t, third.ID); done.Queued != 9 {
			t.Fatalf("third campaign %+v", done)
		}
	})
}

func TestPaceAndCancel(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, 100)
		ctx := context.Background()
		c := f.campaign(t, Input{PerMinute: 60}) // 10 a pass of 10 s
		if n, err := f.s.RunDue(ctx); err != nil || n != 10 {
			t.Fatalf("a pass at 60 a minute queued %d: %v", n, err)
		}
		if got, err := f.s.Cancel(ctx, f.shop, c.ID); err != nil || got.State != Cancelled {
			t.Fatalf("cancel: %+v %v", got, err)
		}
		if n, _ := f.s.RunDue(ctx); n != 0 {
			t.Fatalf("a cancelled campaign queued %d more", n)
		}
		if _, err := f.s.Cancel(ctx, f.shop, c.ID); !errs.Is(err, "campaign_finished") {
			t.Fatalf("cancel twice: %v", err)
		}
	})
}

func TestCampaignsAreTheShops(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, 1)
		ctx := context.Background()
		draft, err := f.s.Create(ctx, f.shop, Input{Name: "甲", SegmentID: 7, Title: "t", Body: "b"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Get(ctx, f.other, draft.ID); !errs.Is(err, "campaign_not_found") {
			t.Fatalf("another shop read it: %v", err)
		}
		if _, err := f.s.Start(ctx, f.other, draft.ID); !errs.Is(err, "campaign_not_found") {
			t.Fatalf("another shop started it: %v", err)
		}
		if _, err := f.s.Cancel(ctx, f.other, draft.ID); !errs.Is(err, "campaign_not_found") {
			t.Fatalf("another shop cancelled it: %v", err)
		}
		if _, err := f.s.Create(ctx, f.shop, Input{Name: "甲", SegmentID: 8, Title: "t", Body: "b"}); !errs.Is(err, "segment_not_found") {
			t.Fatalf("an unknown segment: %v", err)
		}
		bad := []Input{{}, {Name: "n", SegmentID: 7, Title: "t"}, {Name: "n", SegmentID: 7, Title: "t", Body: "b", QuietFrom: "25:00"},
			{Name: "n", SegmentID: 7, Title: "t", Body: "b", PerMinute: -1}, {Name: "n", SegmentID: 7, Title: "t", Body: "b", Page: "https://x"}}
		for _, in := range bad {
			if _, err := f.s.Create(ctx, f.shop, in); errs.As(err) == nil || errs.As(err).Kind != errs.Invalid {
				t.Errorf("%+v: %v", in, err)
			}
		}
		if list, _ := f.s.List(ctx, f.other, 0, 10); len(list) != 0 {
			t.Fatal("another shop lists it")
		}
	})
}
