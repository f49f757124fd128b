package payment

import (
	"context"
	"time"

	"github.com/kaidian/kaidian/internal/platform/errs"
)

var china = time.FixedZone("CST", 8*3600)

// DayStats is one China-time day of payment attempts.
type DayStats struct {
	Date     string  `json:"date" doc:"YYYY-MM-DD, China time"`
	Attempts int64   `json:"attempts" doc:"orders that asked WeChat Pay to pay"`
	Paid     int64   `json:"paid"`
	Rate     float64 `json:"rate" doc:"paid / attempts (0 when there were none); the target is at least 0.98"`
}

// Stats returns the last days days (up to now) of payment attempts and
// successes for shopID, oldest first.
func (s *Service) Stats(ctx context.Context, shopID int64, now time.Time, days int) ([]DayStats, error) {
	today := now.In(china)
	start := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, china).AddDate(0, 0, -(days - 1))
	rows, err := s.db.Query(ctx, `SELECT created_at, status FROM payments WHERE shop_id = ? AND channel = 'wechatpay' AND created_at >= ?`, shopID, start.UnixMilli())
	if err != nil {
		return nil, errs.Wrap("payment stats", err)
	}
	defer rows.Close()
	out := make([]DayStats, days)
	for i := range out {
		out[i].Date = start.AddDate(0, 0, i).Format("2006-01-02")
	}
	for rows.Next() {
		var at int64
		var status string
		if err := rows.Scan(&at, &status); err != nil {
			return nil, errs.Wrap("payment stats", err)
		}
		i := int(time.UnixMilli(at).In(china).Sub(start).Hours() / 24)
		if i < 0 || i >= days {
			continue
		}
		out[i].Attempts++
		if status == "paid" || status == "paid_late" {
			out[i].Paid++
		}
	}
	for i := range out {
		if out[i].Attempts > 0 {
			out[i].Rate = float64(out[i].Paid) / float64(out[i].Attempts)
		}
	}
	return out, errs.Wrap("payment stats", rows.Err())
}

// Today returns, per shop, today's (China time) payment attempts and
// successes, for the metrics.
func (s *Service) Today(ctx context.Context) (map[int64]DayStats, error) {
	now := s.now().In(china)
	start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, china)
	rows, err := s.db.Query(ctx, `SELECT shop_id, COUNT(*), SUM(CASE WHEN status IN ('paid','paid_late') THEN 1 ELSE 0 END)
		FROM payments WHERE channel = 'wechatpay' AND created_at >= ? GROUP BY shop_id`, start.UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]DayStats{}
	for rows.Next() {
		var shop int64
		var d DayStats
		if err := rows.Scan(&shop, &d.Attempts, &d.Paid); err != nil {
			return nil, err
		}
		d.Date = start.Format(time.DateOnly)
		if d.Attempts > 0 {
			d.Rate = float64(d.Paid) / float64(d.Attempts)
		}
		out[shop] = d
	}
	return out, rows.Err()
}
