// Package analytics answers the console's dashboard: orders, paid orders,
// GMV, refunds and the payment success rate per business day (China time).
// It only reads the order, payment and refund tables, every query scoped by
// shop_id; the packages that own those tables write them.
package analytics

import (
	"context"
	"net/http"
	"time"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// china is the business day's time zone (Asia/Shanghai has no DST).
var china = time.FixedZone("CST", 8*3600)

// Days is how many business days the dashboard covers, today included.
const Days = 30

// Day is one business day's figures (or a sum of days).
type Day struct {
	Date         string  `json:"date" doc:"YYYY-MM-DD, China time (empty for sums)"`
	Orders       int64   `json:"orders" doc:"orders placed"`
	PaidOrders   int64   `json:"paid_orders" doc:"orders paid"`
	GMV          int64   `json:"gmv" doc:"fen paid for the orders paid that day"`
	Refunded     int64   `json:"refunded" doc:"fen of refunds requested that day (any status but failed)"`
	PayAttempts  int64   `json:"pay_attempts" doc:"orders that asked WeChat Pay to pay"`
	PaySucceeded int64   `json:"pay_succeeded"`
	SuccessRate  float64 `json:"success_rate" doc:"pay_succeeded / pay_attempts (0 when there were none)"`
}

// Dashboard is today's figures and the last 30 business days'.
type Dashboard struct {
	Today  Day   `json:"today"`
	Last30 Day   `json:"last_30_days" doc:"sums over days"`
	Days   []Day `json:"days" doc:"the last 30 business days, oldest first, today last"`
}

// Service reads the figures.
type Service struct {
	db  *db.DB
	now func() time.Time
}

// NewService returns a Service on d.
func NewService(d *db.DB) *Service { return &Service{db: d, now: time.Now} }

// Dashboard computes shopID's dashboard as of now.
func (s *Service) Dashboard(ctx context.Context, shopID int64, now time.Time) (Dashboard, error) {
	today := now.In(china)
	start := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, china).AddDate(0, 0, -(Days - 1))
	days := make([]Day, Days)
	for i := range days {
		days[i].Date = start.AddDate(0, 0, i).Format(time.DateOnly)
	}
	index := func(ms int64) int {
		d := time.UnixMilli(ms).In(china)
		day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, china)
		i := int(day.Sub(start).Hours()/24 + 0.5)
		if day.Before(start) || i >= Days {
			return -1
		}
		return i
	}
	from := start.UnixMilli()
	queries := []struct {
		sql string
		add func(d *Day, amount int64, flag bool)
	}{
		{`SELECT created_at, 0, FALSE FROM orders WHERE shop_id = ? AND created_at >= ?`,
			func(d *Day, _ int64, _ bool) { d.Orders++ }},
		{`SELECT paid_at, paid_amount, FALSE FROM orders WHERE shop_id = ? AND paid_at >= ?`,
			func(d *Day, amount int64, _ bool) { d.PaidOrders++; d.GMV += amount }},
		{`SELECT created_at, amount, FALSE FROM refunds WHERE shop_id = ? AND created_at >= ? AND status <> 'failed'`,
			func(d *Day, amount int64, _ bool) { d.Refunded += amount }},
		{`SELECT created_at, 0, status IN ('paid', 'paid_late') FROM payments WHERE shop_id = ? AND channel = 'wechatpay' AND created_at >= ?`,
			func(d *Day, _ int64, paid bool) {
				d.PayAttempts++
				if paid {
					d.PaySucceeded++
				}
			}},
	}
	for _, q := range queries {
		if err := s.scan(ctx, q.sql, shopID, from, func(at, amount int64, flag bool) {
			if i := index(at); i >= 0 {
				q.add(&days[i], amount, flag)
			}
		}); err != nil {
			return Dashboard{}, err
		}
	}
	var sum Day
	for i := range days {
		days[i].SuccessRate = rate(days[i])
		sum.Orders += days[i].Orders
		sum.PaidOrders += days[i].PaidOrders
		sum.GMV += days[i].GMV
		sum.Refunded += days[i].Refunded
		sum.PayAttempts += days[i].PayAttempts
		sum.PaySucceeded += days[i].PaySucceeded
	}
	sum.SuccessRate = rate(sum)
	return Dashboard{Today: days[Days-1], Last30: sum, Days: days}, nil
}

func rate(d Day) float64 {
	if d.PayAttempts == 0 {
		return 0
	}
	return float64(d.PaySucceeded) / float64(d.PayAttempts)
}

func (s *Service) scan(ctx context.Context, query string, shopID, from int64, fn func(at, amount int64, flag bool)) error {
	rows, err := s.db.Query(ctx, query, shopID, from)
	if err != nil {
		return errs.Wrap("dashboard", err)
	}
	defer rows.Close()
	for rows.Next() {
		var at, amount int64
		var flag bool
		if err := rows.Scan(&at, &amount, &flag); err != nil {
			return errs.Wrap("dashboard", err)
		}
		fn(at, amount, flag)
	}
	return errs.Wrap("dashboard", rows.Err())
}

// Handlers serves the dashboard.
type Handlers struct{ Svc *Service }

// Routes registers the analytics routes.
func (h *Handlers) Routes(api *httpx.API) {
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/dashboard", Tag: "admin: analytics", Access: httpx.Staff,
		Perm: auth.PermOrdersRead, Summary: "Today's and the last 30 business days' orders, GMV, refunds and payment success rate (China time)",
		Response: Dashboard{}, Handler: h.dashboard})
}

func (h *Handlers) dashboard(w http.ResponseWriter, r *http.Request) error {
	d, err := h.Svc.Dashboard(r.Context(), auth.StaffShop(r.Context()), h.Svc.now())
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, d)
	return nil
}
