// Package chinaday counts business days in Asia/Shanghai (check-ins,
// camps): a Day is a number, consecutive days consecutive numbers.
package chinaday

import "time"

// Zone is China's time (Asia/Shanghai has kept +08:00, no daylight saving,
// since 1991).
var Zone = time.FixedZone("CST", 8*3600)

// Day is a calendar day in Asia/Shanghai, counted in days since 1970-01-01
// there.
type Day int64

// Of is the day t falls on in Asia/Shanghai.
func Of(t time.Time) Day {
	secs := t.Unix() + 8*3600
	d := secs / 86400
	if secs%86400 < 0 {
		d--
	}
	return Day(d)
}

// Date is the day's first instant (00:00 Asia/Shanghai).
func (d Day) Date() time.Time { return time.Unix(int64(d)*86400-8*3600, 0).In(Zone) }

// String writes the day as 2006-01-02.
func (d Day) String() string { return d.Date().Format(time.DateOnly) }

// Month is the day's month as YYYYMM.
func (d Day) Month() int64 {
	t := d.Date()
	return int64(t.Year())*100 + int64(t.Month())
}

// Parse reads 2006-01-02 (years 2000 to 2100).
func Parse(s string) (Day, bool) {
	t, err := time.ParseInLocation(time.DateOnly, s, Zone)
	if err != nil || t.Year() < 2000 || t.Year() > 2100 {
		return 0, false
	}
	return Of(t), true
}
