package costs_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/costs"
	"github.com/kaidian/kaidian/internal/platform/chinaday"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
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

// TestRenewalsRemindOnceAtEachThresholdAndTheYearAddsUp: the WeChat
// certification (¥300 a year) due 2026-12-31 is reminded 30, 7 and 1 days
// before — once each, in Asia/Shanghai days — and renewing moves it to
// 2027-12-31 with its reminders reset; an item entered 5 days before it is
// due gets the 7-day reminder only. The year's report adds the yearly,
// monthly and one-off costs and counts the SMS kaidian sent by month.
func TestRenewalsRemindOnceAtEachThresholdAndTheYearAddsUp(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := db.TestShop(t, d, "wx-costs")
		other := db.TestShop(t, d, "wx-costs-other")
		svc := costs.NewService(d)
		now := time.Date(2026, 11, 30, 16, 30, 0, 0, time.UTC) // 00:30 on 12-01 in Shanghai
		svc.SetClock(func() time.Time { return now })
		cert, err := svc.Create(ctx, shop, costs.Item{Kind: "certification", Name: "微信认证", Supplier: "腾讯", Cost: 30000, Renews: "yearly",
			DueOn: "2026-12-31", Responsible: "张三"})
		if err != nil || cert.DaysLeft != 30 {
			t.Fatalf("created: %+v %v", cert, err)
		}
		svc.Create(ctx, shop, costs.Item{Kind: "server", Name: "云服务器", Cost: 20000, Renews: "monthly", DueOn: "2027-03-01"})
		svc.Create(ctx, shop, costs.Item{Kind: "licence", Name: "ICP 备案", Cost: 0, Renews: "once", DueOn: "2026-05-01"})
		var logs bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logs, nil))
		for _, step := range []struct {
			day  string
			want int
		}{{"2026-12-01", 1}, {"2026-12-02", 0}, {"2026-12-24", 1}, {"2026-12-26", 0}, {"2026-12-30", 1}, {"2026-12-31", 0}} {
			day, _ := chinaday.Parse(step.day)
			now = day.Date().Add(9 * time.Hour)
			if n, err := svc.Remind(ctx, log); err != nil || n != step.want {
				t.Fatalf("%s: %d reminders (%v), want %d", step.day, n, err, step.want)
			}
		}
		if strings.Count(logs.String(), "cost item due") != 3 || !strings.Contains(logs.String(), "responsible=张三") {
			t.Fatalf("logs: %s", logs.String())
		}
		renewed, err := svc.Renewed(ctx, shop, cert.ID)
		if err != nil || renewed.DueOn != "2027-12-31" {
			t.Fatalf("renewed: %+v %v", renewed, err)
		}
		late, _ := svc.Create(ctx, shop, costs.Item{Kind: "domain", Name: "shop.example.com", Cost: 6900, Renews: "yearly", DueOn: "2027-01-05"})
		logs.Reset()
		if n, _ := svc.Remind(ctx, log); n != 1 || !strings.Contains(logs.String(), "days_left=5") {
			t.Fatalf("an item entered 5 days before: %d, %s", n, logs.String())
		}
		now = now.Add(24 * time.Hour)
		if n, _ := svc.Remind(ctx, log); n != 0 {
			t.Fatalf("the 30-day reminder after the 7-day one: %d", n)
		}

		rep, err := svc.Report(ctx, shop, "2026")
		if err != nil {
			t.Fatal(err)
		}
		// certification 300 + server 12 × 200 + ICP 0 + domain 69
		if rep.Total != 30000+12*20000+6900 || len(rep.Items) != 4 || len(rep.Months) != 12 {
			t.Fatalf("2026: total %d, %d items, %d months", rep.Total, len(rep.Items), len(rep.Months))
		}
		if _, err := svc.Report(ctx, shop, "26"); code(err) != "invalid_year" {
			t.Fatalf("a bad year: %v", err)
		}
		if _, err := svc.Renewed(ctx, other, late.ID); code(err) != "cost_item_not_found" {
			t.Fatalf("another shop renews it: %v", err)
		}
		if items, _ := svc.List(ctx, other); len(items) != 0 {
			t.Fatalf("another shop lists %d", len(items))
		}
		for _, bad := range []costs.Item{
			{Kind: "yacht", Name: "x", Renews: "yearly", DueOn: "2027-01-01"},
			{Kind: "domain", Name: "", Renews: "yearly", DueOn: "2027-01-01"},
			{Kind: "domain", Name: "x", Cost: -1, Renews: "yearly", DueOn: "2027-01-01"},
			{Kind: "domain", Name: "x", Renews: "weekly", DueOn: "2027-01-01"},
			{Kind: "domain", Name: "x", Renews: "yearly", DueOn: "2027-02-30"},
		} {
			if _, err := svc.Create(ctx, shop, bad); err == nil {
				t.Errorf("created %+v", bad)
			}
		}
	})
}
