package chinaday

import (
	"testing"
	"time"
)

func TestDaysTurnAtShanghaiMidnight(t *testing.T) {
	before := time.Date(2026, 12, 6, 15, 59, 59, 0, time.UTC) // 23:59:59 in Shanghai
	after := before.Add(time.Second)
	if Of(after)-Of(before) != 1 || Of(before).String() != "2026-12-06" || Of(after).String() != "2026-12-07" {
		t.Fatalf("%v %v", Of(before), Of(after))
	}
	if d, ok := Parse("2026-12-07"); !ok || d != Of(after) || d.Month() != 202612 || !d.Date().Equal(after) {
		t.Fatalf("parse: %v %v", d, ok)
	}
	if Of(time.Unix(-8*3600, 0)) != 0 || Of(time.Unix(-8*3600-1, 0)) != -1 { // before 1970 rounds down
		t.Fatalf("%v %v", Of(time.Unix(-8*3600, 0)), Of(time.Unix(-8*3600-1, 0)))
	}
	for _, bad := range []string{"", "2026-13-01", "1999-12-31", "2101-01-01", "2026/12/07"} {
		if _, ok := Parse(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}
