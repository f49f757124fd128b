package support_test

import (
	"context"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/support"
)

func at(s string) *time.Time {
	t := cst(s)
	return &t
}

// TestMonthlyStatementFreePeriodPackageAndOverage: free maintenance until
// March; from March a package of 2 hours a month for ¥500 and ¥300 an hour
// beyond it. February's 90 minutes are free; in March 60 + 90 minutes on a
// bug use the package's 120 and bill 30 (¥150), and a change request's 45
// minutes — recorded only once the shop approved its estimate — bill
// ¥225; March owes ¥375 + the package's ¥500, with nothing left of its
// quota. April starts a new period.
func TestMonthlyStatementFreePeriodPackageAndOverage(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := db.TestShop(t, d, "wx-contract")
		svc := support.NewService(d)
		svc.SetClock(func() time.Time { return cst("2026-04-02 12:00") })
		if _, err := svc.Statement(ctx, shop, "2026-03"); code(err) != "no_contract" {
			t.Fatalf("before a contract: %v", err)
		}
		_, err := svc.SetContract(ctx, shop, 1, support.Contract{FreeUntil: at("2026-03-01 00:00"), PackageKind: "hours", PackagePeriod: "month",
			PackageQuota: 2, PackagePrice: 50000, PackageStartsAt: *at("2026-03-01 00:00"), HourlyRate: 30000})
		if err != nil {
			t.Fatal(err)
		}
		bug, _ := svc.Open(ctx, shop, 11, support.NewTicket{Kind: "bug", Priority: "p2", Title: "退款按钮无效", Body: "点了没反应"})
		change, _ := svc.Open(ctx, shop, 11, support.NewTicket{Kind: "change", Priority: "p3", Title: "加一个会员价", Body: "会员九折"})
		log := func(id int64, minutes int64, when string) error {
			_, err := svc.LogTime(ctx, shop, id, 1, support.TimeInput{Minutes: minutes, SpentAt: at(when)})
			return err
		}
		for _, e := range []struct {
			minutes int64
			when    string
		}{{90, "2026-02-20 10:00"}, {60, "2026-03-02 10:00"}, {90, "2026-03-10 10:00"}, {30, "2026-04-01 10:00"}} {
			if err := log(bug.ID, e.minutes, e.when); err != nil {
				t.Fatal(err)
			}
		}
		if err := log(change.ID, 45, "2026-03-15 10:00"); code(err) != "estimate_not_approved" {
			t.Fatalf("time on an unapproved change request: %v", err)
		}
		if _, err := svc.SetStatus(ctx, shop, change.ID, provider, "in_progress"); code(err) != "estimate_not_approved" {
			t.Fatalf("work on an unapproved change request: %v", err)
		}
		if _, err := svc.ApproveEstimate(ctx, shop, change.ID); code(err) != "no_estimate" {
			t.Fatalf("approving no estimate: %v", err)
		}
		if _, err := svc.SetEstimate(ctx, shop, bug.ID, 60); code(err) != "not_a_change_request" {
			t.Fatalf("an estimate on a bug: %v", err)
		}
		if _, err := svc.SetEstimate(ctx, shop, change.ID, 120); err != nil {
			t.Fatal(err)
		}
		if tk, err := svc.ApproveEstimate(ctx, shop, change.ID); err != nil || tk.EstimateApprovedAt == nil || *tk.EstimateMinutes != 120 {
			t.Fatalf("approved: %+v %v", tk, err)
		}
		if err := log(change.ID, 45, "2026-03-15 10:00"); err != nil {
			t.Fatal(err)
		}
		if err := log(change.ID, 30, "2026-05-01 10:00"); code(err) != "invalid_spent_at" {
			t.Fatalf("time in the future: %v", err)
		}

		feb, err := svc.Statement(ctx, shop, "2026-02")
		if err != nil || len(feb.Lines) != 1 || feb.FreeMinutes != 90 || feb.Total != 0 || feb.Balance != nil {
			t.Fatalf("February: %+v %v", feb, err)
		}
		mar, err := svc.Statement(ctx, shop, "2026-03")
		if err != nil {
			t.Fatal(err)
		}
		if len(mar.Lines) != 3 || mar.PackageMinutes != 120 || mar.BillableMinutes != 75 || mar.Billable != 37500 || mar.PackageFee != 50000 ||
			mar.Total != 87500 || mar.Balance == nil || mar.Balance.Used != 120 || mar.Balance.Left != 0 {
			t.Fatalf("March: %+v %+v", mar, mar.Balance)
		}
		if l := mar.Lines[1]; l.PackageMinutes != 60 || l.BillableMinutes != 30 || l.Amount != 15000 {
			t.Fatalf("the entry that crosses the quota: %+v", l)
		}
		apr, _ := svc.Statement(ctx, shop, "2026-04")
		if apr.PackageMinutes != 30 || apr.Billable != 0 || apr.Balance.Left != 90 {
			t.Fatalf("April: %+v %+v", apr, apr.Balance)
		}
		if tk, _ := svc.Get(ctx, shop, bug.ID); tk.TimeSpentMinutes != 270 {
			t.Fatalf("time on the bug: %d", tk.TimeSpentMinutes)
		}
	})
}

// TestRequestsPackageCoversWholeTickets: a package of one request a
// quarter covers all the time of the first ticket worked on in the
// quarter; the second ticket is billed; a bad contract is refused.
func TestRequestsPackageCoversWholeTickets(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := db.TestShop(t, d, "wx-requests")
		svc := support.NewService(d)
		svc.SetClock(func() time.Time { return cst("2026-06-30 12:00") })
		if _, err := svc.SetContract(ctx, shop, 1, support.Contract{PackageKind: "requests", PackagePeriod: "quarter", PackageQuota: 1,
			PackagePrice: 100000, PackageStartsAt: *at("2026-04-01 00:00"), HourlyRate: 20000}); err != nil {
			t.Fatal(err)
		}
		a, _ := svc.Open(ctx, shop, 11, support.NewTicket{Kind: "bug", Priority: "p2", Title: "甲", Body: "甲"})
		b, _ := svc.Open(ctx, shop, 11, support.NewTicket{Kind: "question", Priority: "p4", Title: "乙", Body: "乙"})
		for _, e := range []struct {
			id      int64
			minutes int64
			when    string
		}{{a.ID, 60, "2026-05-02 10:00"}, {b.ID, 30, "2026-05-03 10:00"}, {a.ID, 120, "2026-06-10 10:00"}} {
			if _, err := svc.LogTime(ctx, shop, e.id, 1, support.TimeInput{Minutes: e.minutes, SpentAt: at(e.when)}); err != nil {
				t.Fatal(err)
			}
		}
		jun, _ := svc.Statement(ctx, shop, "2026-06")
		if jun.PackageMinutes != 120 || jun.Billable != 0 || jun.PackageFee != 0 || jun.Balance.Used != 1 || jun.Balance.Left != 0 {
			t.Fatalf("June (ticket a, counted in May): %+v %+v", jun, jun.Balance)
		}
		may, _ := svc.Statement(ctx, shop, "2026-05")
		if may.PackageMinutes != 60 || may.BillableMinutes != 30 || may.Billable != 10000 || may.PackageFee != 0 {
			t.Fatalf("May: %+v", may)
		}
		apr, _ := svc.Statement(ctx, shop, "2026-04")
		if apr.PackageFee != 100000 || len(apr.Lines) != 0 {
			t.Fatalf("April, the quarter's first month: %+v", apr)
		}
		for _, bad := range []support.Contract{
			{PackageKind: "days", PackagePeriod: "month"},
			{PackageKind: "hours", PackagePeriod: "week", PackageStartsAt: time.Now()},
			{PackageKind: "hours", PackagePeriod: "month", PackageQuota: -2, PackageStartsAt: time.Now()},
			{PackageKind: "none", PackagePeriod: "month", HourlyRate: -1},
			{PackageKind: "hours", PackagePeriod: "month", PackageQuota: 2},
		} {
			if _, err := svc.SetContract(ctx, shop, 1, bad); code(err) != "invalid_package" {
				t.Errorf("contract %+v: %v", bad, err)
			}
		}
	})
}
