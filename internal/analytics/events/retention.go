package events

import (
	"context"
	"fmt"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Retention granularities.
const (
	ByDay  = "day"
	ByWeek = "week"
)

// Retention limits.
const (
	MaxCohortDays = 366
	MaxPeriods    = 90
)

// RetentionQuery asks how the members first seen doing cohort_event in
// each period of [from, to] came back to do return_event in the periods
// after. Periods are days, or weeks of 7 days counted from from. A cohort
// by signup is cohort_event=signup.
type RetentionQuery struct {
	CohortEvent string `json:"cohort_event"`
	ReturnEvent string `json:"return_event"`
	Period      string `json:"period"`
	From        string `json:"from"`
	To          string `json:"to"`
	Periods     int    `json:"periods"`
}

// Cohort is one row of the grid.
type Cohort struct {
	Start string `json:"start" doc:"the cohort's first day, YYYY-MM-DD"`
	Size  int    `json:"size" doc:"members whose first cohort_event was in this period"`
	// Counts[k] is how many of them did return_event in period k after
	// theirs (k = 0: the cohort's own period); null when that period has
	// not ended yet.
	Counts []*int     `json:"counts" doc:"members who did return_event k periods later (0: the same period); null when the period has not ended"`
	Rates  []*float64 `json:"rates" doc:"counts / size; null when the period has not ended"`
}

// Retention is the grid.
type Retention struct {
	Period  string   `json:"period"`
	Cohorts []Cohort `json:"cohorts"`
}

type retentionSpec struct {
	cohort, ret, period string
	from, to            Day
	periods, length     int
}

func (q RetentionQuery) check() (retentionSpec, error) {
	if !ValidName(q.CohortEvent) || !ValidName(q.ReturnEvent) {
		return retentionSpec{}, errs.Field("cohort_event", "invalid_event_name", "cohort_event and return_event are event names")
	}
	length := 1
	switch q.Period {
	case ByDay, "":
		q.Period = ByDay
	case ByWeek:
		length = 7
	default:
		return retentionSpec{}, errs.Field("period", "invalid_period", "period is day or week")
	}
	if q.Periods < 1 || q.Periods > MaxPeriods {
		return retentionSpec{}, errs.Field("periods", "invalid_periods", fmt.Sprintf("periods is 1 to %d", MaxPeriods))
	}
	from, to, err := dayRange(q.From, q.To, MaxCohortDays)
	if err != nil {
		return retentionSpec{}, err
	}
	return retentionSpec{cohort: q.CohortEvent, ret: q.ReturnEvent, period: q.Period, from: from, to: to,
		periods: q.Periods, length: length}, nil
}

// Retention answers q for shopID from the bitmaps.
func (s *Service) Retention(_ context.Context, shopID int64, q RetentionQuery) (Retention, error) {
	spec, err := q.check()
	if err != nil {
		return Retention{}, err
	}
	today := DayOf(s.now().UnixMilli())
	firsts := s.index.firstDays(shopID, spec.cohort, spec.from, spec.to)
	out := Retention{Period: spec.period, Cohorts: []Cohort{}}
	// returns caches each period's union of return_event (periods start
	// at from + i·length).
	returns := map[int]*roaring.Bitmap{}
	returned := func(i int) *roaring.Bitmap {
		if b, ok := returns[i]; ok {
			return b
		}
		start := spec.from + Day(i*spec.length)
		b := s.index.Union(shopID, spec.ret, start, start+Day(spec.length-1))
		returns[i] = b
		return b
	}
	for c := 0; spec.from+Day(c*spec.length) <= spec.to; c++ {
		start := spec.from + Day(c*spec.length)
		members := roaring.FastOr(firsts[int(start-spec.from):min(int(start-spec.from)+spec.length, len(firsts))]...)
		row := Cohort{Start: time.UnixMilli(start.Start()).In(china).Format(time.DateOnly), Size: int(members.GetCardinality()),
			Counts: make([]*int, spec.periods+1), Rates: make([]*float64, spec.periods+1)}
		for k := 0; k <= spec.periods; k++ {
			end := start + Day((k+1)*spec.length) - 1 // the period's last day
			if end >= today {
				continue // not ended: null
			}
			n := int(members.AndCardinality(returned(c + k)))
			r := ratio(n, row.Size)
			row.Counts[k], row.Rates[k] = &n, &r
		}
		out.Cohorts = append(out.Cohorts, row)
	}
	return out, nil
}
