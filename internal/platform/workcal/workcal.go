// Package workcal computes in working time, as China's offices keep it:
// working hours of a day in one or more intervals (09:00–12:00,
// 13:30–18:00), weekends off, the State Council's national holidays off
// and its make-up working days (调休: a Saturday or Sunday worked to
// bridge a holiday) on, all in Asia/Shanghai. The holiday data ships in the
// binary (chinese-days.json, from the npm package chinese-days; DataVersion
// says which); staff add or override days, e.g. the next year's schedule,
// published each November. An SLA's deadline is Add(opened, minutes).
package workcal

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/kaidian/kaidian/internal/platform/chinaday"
)

//go:embed chinese-days.json
var dataJSON []byte

type data struct {
	Version  string            `json:"version"`
	Holidays map[string]string `json:"holidays"`
	Workdays map[string]string `json:"workdays"`
}

var builtin = func() data {
	var d data
	if err := json.Unmarshal(dataJSON, &d); err != nil {
		panic("workcal: chinese-days.json: " + err.Error())
	}
	return d
}()

// DataVersion is the version of the chinese-days data built in.
var DataVersion = builtin.Version

// builtinDays is the built-in data by day: true a make-up working day,
// false a holiday.
var builtinDays = func() map[chinaday.Day]bool {
	out := map[chinaday.Day]bool{}
	for s := range builtin.Holidays {
		if d, ok := chinaday.Parse(s); ok {
			out[d] = false
		}
	}
	for s := range builtin.Workdays {
		if d, ok := chinaday.Parse(s); ok {
			out[d] = true
		}
	}
	return out
}()

// Interval is working time within a day, in minutes after midnight: From
// inclusive, To exclusive.
type Interval struct{ From, To int }

// Calendar is a working calendar. Its zero value is not usable: New.
type Calendar struct {
	hours     []Interval
	perDay    int
	overrides map[chinaday.Day]bool // staff's days: true worked, false off
}

// ErrNoWorkingTime: the calendar has no working minute in a day.
var ErrNoWorkingTime = errors.New("workcal: the working hours hold no working time")

// New returns the calendar with these working hours, the built-in
// holidays and make-up days, and the overrides (a day → worked or not;
// they win over the built-in data).
func New(hours []Interval, overrides map[chinaday.Day]bool) (*Calendar, error) {
	hs := append([]Interval(nil), hours...)
	sort.Slice(hs, func(i, j int) bool { return hs[i].From < hs[j].From })
	c := &Calendar{hours: hs, overrides: map[chinaday.Day]bool{}}
	for i, h := range hs {
		if h.From < 0 || h.To > 24*60 || h.From >= h.To || (i > 0 && h.From < hs[i-1].To) {
			return nil, fmt.Errorf("workcal: working hours %02d:%02d–%02d:%02d are empty, outside the day or overlap another interval",
				h.From/60, h.From%60, h.To/60, h.To%60)
		}
		c.perDay += h.To - h.From
	}
	if c.perDay == 0 {
		return nil, ErrNoWorkingTime
	}
	for d, worked := range overrides {
		c.overrides[d] = worked
	}
	return c, nil
}

// IsWorkday reports whether d is worked.
func (c *Calendar) IsWorkday(d chinaday.Day) bool {
	if worked, ok := c.overrides[d]; ok {
		return worked
	}
	if worked, ok := builtinDays[d]; ok {
		return worked
	}
	wd := d.Date().Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// maxDays bounds a search for working time (ten years of days off cannot
// happen; a calendar overridden into no workday at all would loop).
const maxDays = 3660

// Add returns the instant minutes of working time after t (t itself if
// minutes is 0 and t is in working time; else the start of the next
// working interval for 0). It fails only when no working day comes within
// ten years.
func (c *Calendar) Add(t time.Time, minutes int) (time.Time, error) {
	if minutes < 0 {
		return time.Time{}, errors.New("workcal: negative minutes")
	}
	day, minute := chinaday.Of(t), minuteOf(t)
	for range maxDays {
		if c.IsWorkday(day) {
			for _, h := range c.hours {
				if minute >= h.To {
					continue
				}
				from := max(minute, h.From)
				if left := h.To - from; minutes < left || (minutes == left && minutes > 0) {
					return at(day, from+minutes, t), nil
				}
				minutes -= h.To - from
			}
			// Whole days: skip as many as the remaining time allows.
		}
		day, minute = day+1, 0
		for minutes > c.perDay && c.IsWorkday(day) {
			minutes -= c.perDay
			day++
		}
	}
	return time.Time{}, ErrNoWorkingTime
}

// Between is the working minutes from a to b (0 when b is not after a).
func (c *Calendar) Between(a, b time.Time) int {
	if !b.After(a) {
		return 0
	}
	total := 0
	day, last := chinaday.Of(a), chinaday.Of(b)
	for ; day <= last; day++ {
		if !c.IsWorkday(day) {
			continue
		}
		lo, hi := 0, 24*60
		if day == chinaday.Of(a) {
			lo = minuteOf(a)
		}
		if day == last {
			hi = minuteOf(b)
		}
		for _, h := range c.hours {
			total += max(0, min(h.To, hi)-max(h.From, lo))
		}
	}
	return total
}

// InWorkingTime reports whether t falls in working time (reminders are
// sent only then).
func (c *Calendar) InWorkingTime(t time.Time) bool {
	if !c.IsWorkday(chinaday.Of(t)) {
		return false
	}
	m := minuteOf(t)
	for _, h := range c.hours {
		if m >= h.From && m < h.To {
			return true
		}
	}
	return false
}

// minuteOf is the minute of t's day in Asia/Shanghai (seconds dropped: SLA
// time is counted in whole minutes).
func minuteOf(t time.Time) int {
	st := t.In(chinaday.Zone)
	return st.Hour()*60 + st.Minute()
}

// at is minute m of day d, in t's location.
func at(d chinaday.Day, m int, t time.Time) time.Time {
	return d.Date().Add(time.Duration(m) * time.Minute).In(t.Location())
}
