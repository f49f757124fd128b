package checkin

import (
	"fmt"
	"time"

	"github.com/kaidian/kaidian/internal/platform/chinaday"
)

// Day is a business day in Asia/Shanghai (platform/chinaday).
type Day = chinaday.Day

// china is the business day's time zone.
var china = chinaday.Zone

// DayOf is the business day t falls on.
func DayOf(t time.Time) Day { return chinaday.Of(t) }

// ParseDay reads 2006-01-02 (years 2000 to 2100).
func ParseDay(s string) (Day, bool) { return chinaday.Parse(s) }

// parseMonth reads 2006-01 (years 2000 to 2100) and returns its first day
// and the first day of the next month.
func parseMonth(s string) (from, to Day, ok bool) {
	t, err := time.ParseInLocation("2006-01", s, china)
	if err != nil || t.Year() < 2000 || t.Year() > 2100 {
		return 0, 0, false
	}
	return DayOf(t), DayOf(t.AddDate(0, 1, 0)), true
}

func monthOf(d Day) string {
	t := d.Date()
	return fmt.Sprintf("%04d-%02d", t.Year(), t.Month())
}
