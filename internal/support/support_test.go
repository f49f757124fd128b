package support_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/chinaday"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/support"
)

func cst(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, chinaday.Zone)
	if err != nil {
		panic(err)
	}
	return t
}

var (
	client   = support.Side{AccountID: 11}
	provider = support.Side{AccountID: 1, Provider: true}
)

func code(err error) string {
	if e, ok := err.(*errs.Error); ok {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestAFridayNightCrashBeforeAMakeUpSunday: a P1 opened on Friday
// 2026-09-18 at 20:00, before the make-up working Sunday of National Day,
// is due for an answer at 14:30 that Sunday (4 working hours of 09:00–12:00
// and 13:30–18:00) and for a fix at 18:00; the answer in time is not a
// breach, and the client's replies never move the first-response
// deadline. Waiting for the client from Sunday 11:00 to Monday 10:00
// (390 working minutes) moves the fix to Monday 17:00; fixed at 17:30, the
// resolution is breached. An unanswered P3 breaches once its day passes.
// The month's report counts both.
func TestAFridayNightCrashBeforeAMakeUpSunday(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := db.TestShop(t, d, "wx-support")
		svc := support.NewService(d)
		now := cst("2026-09-18 20:00")
		svc.SetClock(func() time.Time { return now })
		p := support.DefaultPolicy()
		p.Targets["p1"] = support.Target{Response: 240, Resolution: 450}
		if _, err := svc.SetPolicy(ctx, shop, 1, p); err != nil {
			t.Fatal(err)
		}
		tk, err := svc.Open(ctx, shop, client.AccountID, support.NewTicket{Kind: "bug", Priority: "p1", Title: "下单白屏", Body: "所有人都打不开结算页", Page: "/pages/checkout"})
		if err != nil {
			t.Fatal(err)
		}
		if !tk.ResponseDueAt.Equal(cst("2026-09-20 14:30")) || !tk.ResolutionDueAt.Equal(cst("2026-09-20 18:00")) || tk.Status != "open" {
			t.Fatalf("opened: due %s / %s, status %s", tk.ResponseDueAt.In(chinaday.Zone), tk.ResolutionDueAt.In(chinaday.Zone), tk.Status)
		}
		now = cst("2026-09-19 09:00") // Saturday: the client adds a detail
		if tk, err = svc.Reply(ctx, shop, tk.ID, client, "补充：安卓和苹果都一样"); err != nil || !tk.ResponseDueAt.Equal(cst("2026-09-20 14:30")) || tk.RespondedAt != nil {
			t.Fatalf("the client's update: %+v %v", tk, err)
		}
		now = cst("2026-09-20 10:00")
		if tk, err = svc.Reply(ctx, shop, tk.ID, provider, "收到，正在排查"); err != nil || tk.RespondedAt == nil || tk.ResponseBreached || tk.Status != "in_progress" {
			t.Fatalf("answered: %+v %v", tk, err)
		}
		now = cst("2026-09-20 11:00")
		if tk, err = svc.SetStatus(ctx, shop, tk.ID, provider, "waiting_client"); err != nil || tk.WaitingSince == nil {
			t.Fatalf("waiting: %+v %v", tk, err)
		}
		now = cst("2026-09-21 10:00")
		if tk, err = svc.Reply(ctx, shop, tk.ID, client, "日志已上传"); err != nil || tk.Status != "in_progress" || !tk.ResolutionDueAt.Equal(cst("2026-09-21 17:00")) {
			t.Fatalf("the client answered: status %s, due %s, %v", tk.Status, tk.ResolutionDueAt.In(chinaday.Zone), err)
		}
		now = cst("2026-09-21 17:30")
		if tk, err = svc.SetStatus(ctx, shop, tk.ID, provider, "resolved"); err != nil || !tk.ResolutionBreached || tk.ResponseBreached {
			t.Fatalf("resolved late: %+v %v", tk, err)
		}
		if len(tk.Messages) != 3 || !tk.Messages[1].FromAgency {
			t.Fatalf("messages: %+v", tk.Messages)
		}

		now = cst("2026-09-22 09:00")
		quiet, _ := svc.Open(ctx, shop, client.AccountID, support.NewTicket{Kind: "question", Priority: "p3", Title: "怎么导出订单", Body: "在哪里"})
		if quiet.ResponseBreached {
			t.Fatal("breached at once")
		}
		now = cst("2026-09-23 09:01") // a working day (450 minutes) and a minute later
		rep, err := svc.Report(ctx, shop, "2026-09")
		if err != nil {
			t.Fatal(err)
		}
		p1, p3 := rep.Priorities[0], rep.Priorities[2]
		if p1.Opened != 1 || p1.Responded != 1 || p1.ResponseBreaches != 0 || p1.Resolved != 1 || p1.ResolutionBreaches != 1 ||
			p3.Opened != 1 || p3.Responded != 0 || p3.ResponseBreaches != 1 || p3.ResolutionBreaches != 0 {
			t.Fatalf("report: %+v", rep.Priorities)
		}
		if r, _ := svc.Report(ctx, shop, "2026-10"); r.Priorities[0].Opened != 0 {
			t.Fatalf("October: %+v", r)
		}
	})
}

// TestSidesStatusesAndTenancy: the shop closes and reopens, the provider
// works and resolves, not the other way round; a closed ticket takes no
// reply; another shop cannot see or touch the ticket; bad policies and
// tickets are refused with their codes.
func TestSidesStatusesAndTenancy(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a, b := db.TestShop(t, d, "wx-support-a"), db.TestShop(t, d, "wx-support-b")
		svc := support.NewService(d)
		tk, err := svc.Open(ctx, a, client.AccountID, support.NewTicket{Kind: "change", Priority: "p2", Title: "改首页横幅", Body: "换成双十一"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetStatus(ctx, a, tk.ID, client, "resolved"); code(err) != "not_your_side" {
			t.Fatalf("the client resolves: %v", err)
		}
		if _, err := svc.SetStatus(ctx, a, tk.ID, provider, "closed"); code(err) != "not_your_side" {
			t.Fatalf("the provider closes: %v", err)
		}
		if _, err := svc.SetStatus(ctx, a, tk.ID, client, "closed"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Reply(ctx, a, tk.ID, provider, "还在吗"); code(err) != "illegal_transition" {
			t.Fatalf("a reply to a closed ticket: %v", err)
		}
		if tk, err = svc.SetStatus(ctx, a, tk.ID, client, "reopened"); err != nil || tk.Status != "in_progress" {
			t.Fatalf("reopened: %+v %v", tk, err)
		}
		for _, f := range []func() error{
			func() error { _, err := svc.Get(ctx, b, tk.ID); return err },
			func() error { _, err := svc.Reply(ctx, b, tk.ID, provider, "x"); return err },
			func() error { _, err := svc.SetStatus(ctx, b, tk.ID, provider, "resolved"); return err },
		} {
			if err := f(); code(err) != "ticket_not_found" {
				t.Fatalf("shop b on shop a's ticket: %v", err)
			}
		}
		if rows, _ := svc.List(ctx, b, "", 1<<62, 10); len(rows) != 0 {
			t.Fatalf("shop b lists %d tickets", len(rows))
		}
		if got, _ := svc.Get(ctx, a, tk.ID); got.Status != "in_progress" || len(got.Messages) != 0 {
			t.Fatalf("after shop b's attempts: %+v", got)
		}

		bad := support.DefaultPolicy()
		bad.Hours = [][2]int{}
		if _, err := svc.SetPolicy(ctx, a, 1, bad); code(err) != "calendar_no_working_time" {
			t.Fatalf("no working time: %v", err)
		}
		bad = support.DefaultPolicy()
		bad.Targets["p2"] = support.Target{Response: -60, Resolution: 10}
		if _, err := svc.SetPolicy(ctx, a, 1, bad); code(err) != "invalid_targets" {
			t.Fatalf("negative hours: %v", err)
		}
		bad = support.DefaultPolicy()
		bad.Days = map[string]bool{"2027-02-30": true}
		if _, err := svc.SetPolicy(ctx, a, 1, bad); code(err) != "invalid_day" {
			t.Fatalf("a bad day: %v", err)
		}
		for _, n := range []support.NewTicket{
			{Kind: "bug", Priority: "p0", Title: "x", Body: "y"},
			{Kind: "gossip", Priority: "p1", Title: "x", Body: "y"},
			{Kind: "bug", Priority: "p1", Title: " ", Body: "y"},
			{Kind: "bug", Priority: "p1", Title: "x", Body: "y", Screenshots: []int64{424242}},
		} {
			if _, err := svc.Open(ctx, a, 11, n); err == nil {
				t.Errorf("opened %+v", n)
			}
		}
	})
}

// TestRemindersOnlyInWorkingTimeAndOnce: a P1 opened on Friday at 17:00
// is due at 10:00 on the make-up Sunday. Friday evening it is not yet
// near; on Saturday (not a working day) nothing is sent though it is
// near; on Sunday at 09:31, 29 working minutes before, the provider is
// reminded, once; an answered ticket is not reminded of.
func TestRemindersOnlyInWorkingTimeAndOnce(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := db.TestShop(t, d, "wx-remind")
		svc := support.NewService(d)
		now := cst("2026-09-18 17:00")
		svc.SetClock(func() time.Time { return now })
		p := support.DefaultPolicy()
		if _, err := svc.SetPolicy(ctx, shop, 1, p); err != nil {
			t.Fatal(err)
		}
		tk, _ := svc.Open(ctx, shop, 11, support.NewTicket{Kind: "bug", Priority: "p1", Title: "白屏", Body: "白屏"})
		answered, _ := svc.Open(ctx, shop, 11, support.NewTicket{Kind: "bug", Priority: "p1", Title: "已回复", Body: "x"})
		if _, err := svc.Reply(ctx, shop, answered.ID, provider, "在看"); err != nil {
			t.Fatal(err)
		}
		if !tk.ResponseDueAt.Equal(cst("2026-09-20 10:00")) {
			t.Fatalf("due %s", tk.ResponseDueAt.In(chinaday.Zone))
		}
		var logs bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logs, nil))
		for _, step := range []struct {
			at   string
			want int
		}{{"2026-09-18 17:10", 0}, {"2026-09-19 09:40", 0}, {"2026-09-20 09:31", 1}, {"2026-09-20 09:40", 0}, {"2026-09-20 11:00", 0}} {
			now = cst(step.at)
			if n, err := svc.Remind(ctx, log); err != nil || n != step.want {
				t.Fatalf("at %s: %d reminders (%v), want %d", step.at, n, err, step.want)
			}
		}
		if !strings.Contains(logs.String(), "ticket answer due") || strings.Count(logs.String(), "ticket=") != 1 {
			t.Fatalf("logs: %s", logs.String())
		}
	})
}
