package camp

import (
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
