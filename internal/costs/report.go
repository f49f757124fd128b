package costs

import (
	"context"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/platform/chinaday"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// YearReport is a shop's year of costs: what its items cost over the year
// and what kaidian metered month by month.
type YearReport struct {
	Year         int          `json:"year"`
	Items        []YearItem   `json:"items"`
	Total        int64        `json:"total" doc:"fen: the items' costs falling in the year"`
	Months       []MonthUsage `json:"months" doc:"the calls kaidian made that third parties bill, by month (Asia/Shanghai)"`
	StorageBytes int64        `json:"storage_bytes" doc:"uploaded files stored now"`
}

// YearItem is an item's cost within the year.
type YearItem struct {
	Item
	Renewals int64 `json:"renewals" doc:"renewals falling in the year"`
	YearCost int64 `json:"year_cost" doc:"fen"`
}

// MonthUsage is one month's metered calls.
type MonthUsage struct {
	Month         string `json:"month"`
	SMSSent       int64  `json:"sms_sent"`
	ImagesChecked int64  `json:"images_checked" doc:"images sent to WeChat's content check"`
}

var errInvalidYear = errs.Field("year", "invalid_year", "year is 2000 to 2100")

// Report is the year's report of the shop.
func (s *Service) Report(ctx context.Context, shopID int64, year string) (YearReport, error) {
	y, err := strconv.Atoi(year)
	if err != nil || y < 2000 || y > 2100 {
		return YearReport{}, errInvalidYear
	}
	items, err := s.List(ctx, shopID)
	if err != nil {
		return YearReport{}, err
	}
	rep := YearReport{Year: y, Items: []YearItem{}}
	for _, it := range items {
		n := renewalsIn(it, y)
		rep.Items = append(rep.Items, YearItem{Item: it, Renewals: n, YearCost: n * it.Cost})
		rep.Total += n * it.Cost
	}
	from := time.Date(y, 1, 1, 0, 0, 0, 0, chinaday.Zone)
	for m := range 12 {
		start, end := from.AddDate(0, m, 0), from.AddDate(0, m+1, 0)
		u := MonthUsage{Month: start.Format("2006-01")}
		if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM messages WHERE shop_id = ? AND channel = 'sms' AND state = 'sent' AND sent_at >= ? AND sent_at < ?`,
			shopID, start.UnixMilli(), end.UnixMilli()).Scan(&u.SMSSent); err != nil {
			return rep, err
		}
		if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM media WHERE shop_id = ? AND moderation <> 'unchecked' AND created_at >= ? AND created_at < ?`,
			shopID, start.UnixMilli(), end.UnixMilli()).Scan(&u.ImagesChecked); err != nil {
			return rep, err
		}
		rep.Months = append(rep.Months, u)
	}
	err = s.db.QueryRow(ctx, `SELECT COALESCE(SUM(size), 0) FROM media WHERE shop_id = ?`, shopID).Scan(&rep.StorageBytes)
	return rep, err
}

// renewalsIn counts an item's due days in the year: its due day and, for
// a recurring item, the ones before and after it a year or a month apart.
func renewalsIn(it Item, year int) int64 {
	d, ok := chinaday.Parse(it.DueOn)
	if !ok {
		return 0
	}
	due := d.Date()
	switch it.Renews {
	case "once":
		if due.Year() == year {
			return 1
		}
		return 0
	case "yearly":
		return 1
	}
	return 12
}
