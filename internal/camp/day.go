package camp

import "time"

// china is the business day's time zone (Asia/Shanghai has no DST).
var china = time.FixedZone("CST", 8*3600)

// Day is a calendar day in Asia/Shanghai, counted in days since 1970-01-01
// there; consecutive days are consecutive numbers.
type Day int64

// DayOf is the Shanghai day t falls on.
func DayOf(t time.Time) Day {
	secs := t.Unix() + 8*3600
	d := secs / 86400
	if secs%86400 < 0 {
		d--
	}
	return Day(d)
}

// Date is the day's first instant (00:00 Asia/Shanghai).
func (d Day) Date() time.Time { return time.Unix(int64(d)*86400-8*3600, 0).In(china) }

// String writes the day as 2006-01-02.
func (d Day) String() string { return d.Date().Format(time.DateOnly) }

// ParseDay reads 2006-01-02 (years 2000 to 2100).
func ParseDay(s string) (Day, bool) {
	t, err := time.ParseInLocation(time.DateOnly, s, china)
	if err != nil || t.Year() < 2000 || t.Year() > 2100 {
		return 0, false
	}
	return DayOf(t), true
}
