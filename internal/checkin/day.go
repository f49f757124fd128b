package checkin

import (
	"fmt"
	"time"
)

// china is the business day's time zone (Asia/Shanghai has no DST).
var china = time.FixedZone("CST", 8*3600)

// Day is a business day in Asia/Shanghai, counted in days since
// 1970-01-01 there; consecutive days are consecutive numbers.
type Day int64

// DayOf is the business day t falls on.
func DayOf(t time.Time) Day {
	secs := t.Unix() + 8*3600
	d := secs / 86400
	if secs%86400 < 0 {
		d--
	}
	return Day(d)
}

// Date is the day's first instant, in china.
func (d Day) Date() time.Time { return time.Unix(int64(d)*86400-8*3600, 0).In(china) }

// String writes the day as 2006-01-02.
func (d Day) String() string { return d.Date().Format(time.DateOnly) }

// Month is the day's month as YYYYMM (the monthly make-up allowance counts by it).
func (d Day) Month() int64 {
	t := d.Date()
	return int64(t.Year())*100 + int64(t.Month())
}

// ParseDay reads 2006-01-02 (years 2000 to 2100).
func ParseDay(s string) (Day, bool) {
	t, err := time.ParseInLocation(time.DateOnly, s, china)
	if err != nil || t.Year() < 2000 || t.Year() > 2100 {
		return 0, false
	}
	return DayOf(t), true
}

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
