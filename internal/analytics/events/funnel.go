package events

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Funnel limits.
const (
	MinSteps  = 2
	MaxSteps  = 20
	MaxWindow = 90 * 24 * time.Hour
	MaxRange  = 366 // days of entry
)

// Orders of a funnel's steps.
const (
	Ordered = "ordered" // each step after the one before; other events may come between
	Strict  = "strict"  // each step the member's very next event after the one before
	Any     = "any"     // steps 2.. in any order after step 1
)

// FunnelQuery asks how members went through steps. A member enters with a
// step-1 event in [from, to] (the range limits entry only: later steps
// count up to the window after it); each step must come within
// window_seconds of step 1. A member's attempt that gets furthest counts
// (the earliest of those); one still inside its window that has not
// reached the last step is "in progress", not dropped off.
type FunnelQuery struct {
	Steps         []string `json:"steps" doc:"2 to 20 event names"`
	WindowSeconds int64    `json:"window_seconds" doc:"from step 1, at most 90 days"`
	From          string   `json:"from" doc:"first day of entry, YYYY-MM-DD (Asia/Shanghai)"`
	To            string   `json:"to" doc:"last day of entry, YYYY-MM-DD (Asia/Shanghai), at most 366 days after from"`
	Order         string   `json:"order,omitempty" enum:"ordered,strict,any" doc:"default ordered"`
}

// FunnelStep is one step's figures.
type FunnelStep struct {
	Name          string   `json:"name"`
	Reached       int      `json:"reached" doc:"members who reached this step"`
	Conversion    float64  `json:"conversion" doc:"reached / entered"`
	FromPrevious  float64  `json:"from_previous" doc:"reached / reached at the previous step"`
	InProgress    int      `json:"in_progress" doc:"reached the previous step, not this one, and their window is still open"`
	DroppedOff    int      `json:"dropped_off" doc:"reached the previous step, not this one, and their window closed"`
	MedianSeconds *float64 `json:"median_seconds" doc:"median time from the previous step among those who reached this one (null for step 1 or when nobody did)"`
}

// Funnel is a funnel's answer.
type Funnel struct {
	Entered int          `json:"entered"`
	Steps   []FunnelStep `json:"steps"`
}

// funnelSpec is a checked query in Unix ms.
type funnelSpec struct {
	steps            []string
	window, from, to int64 // entry in [from, to)
	fromDay, toDay   Day
	order            string
}

func (q FunnelQuery) check() (funnelSpec, error) {
	if len(q.Steps) < MinSteps || len(q.Steps) > MaxSteps {
		return funnelSpec{}, errs.Field("steps", "invalid_steps", fmt.Sprintf("a funnel has %d to %d steps", MinSteps, MaxSteps))
	}
	for i, s := range q.Steps {
		if !ValidName(s) {
			return funnelSpec{}, errs.Field(fmt.Sprintf("steps[%d]", i), "invalid_steps", "each step is an event name")
		}
	}
	if q.WindowSeconds <= 0 || q.WindowSeconds > int64(MaxWindow/time.Second) {
		return funnelSpec{}, errs.Field("window_seconds", "invalid_window", "the window is 1 second to 90 days")
	}
	order := q.Order
	if order == "" {
		order = Ordered
	}
	if order != Ordered && order != Strict && order != Any {
		return funnelSpec{}, errs.Field("order", "invalid_order", "order is ordered, strict or any")
	}
	if order == Any && distinct(q.Steps) != len(q.Steps) {
		return funnelSpec{}, errs.Field("steps", "duplicate_steps", "in any order, each step names a different event")
	}
	from, to, err := dayRange(q.From, q.To, MaxRange)
	if err != nil {
		return funnelSpec{}, err
	}
	return funnelSpec{steps: q.Steps, window: q.WindowSeconds * 1000, from: from.Start(), to: (to + 1).Start(),
		fromDay: from, toDay: to, order: order}, nil
}

func distinct(names []string) int {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return len(m)
}

// dayRange parses from and to (YYYY-MM-DD, China), to ≥ from, at most
// most days.
func dayRange(from, to string, most int) (Day, Day, error) {
	f, err1 := time.ParseInLocation(time.DateOnly, from, china)
	t, err2 := time.ParseInLocation(time.DateOnly, to, china)
	if err1 != nil || err2 != nil {
		return 0, 0, errs.Field("from", "invalid_range", "from and to are dates, YYYY-MM-DD")
	}
	fd, td := DayOf(f.UnixMilli()), DayOf(t.UnixMilli())
	if td < fd || int(td-fd) >= most {
		return 0, 0, errs.Field("to", "invalid_range", fmt.Sprintf("to is from to %d days after it", most-1))
	}
	return fd, td, nil
}

// ev is one member event as funnels read it.
type ev struct {
	at, id int64
	name   string
}

// memberPath is a member's best attempt: how many steps it reached, the
// times of those steps, and whether its window is still open.
type memberPath struct {
	reached int
	times   []int64
	open    bool
}

// Funnel answers q for shopID as of now: the bitmaps give the members who
// entered in the range; their event rows in [from, to + window) give the
// times.
func (s *Service) Funnel(ctx context.Context, shopID int64, q FunnelQuery) (Funnel, error) {
	spec, err := q.check()
	if err != nil {
		return Funnel{}, err
	}
	candidates := s.index.Union(shopID, spec.steps[0], spec.fromDay, spec.toDay)
	if candidates.IsEmpty() {
		return summarize(spec, nil), nil
	}
	byMember, err := s.funnelRows(ctx, shopID, spec, candidates)
	if err != nil {
		return Funnel{}, err
	}
	now := s.now().UnixMilli()
	paths := make([]memberPath, 0, len(byMember))
	for _, evs := range byMember {
		sort.Slice(evs, func(i, j int) bool { return evs[i].at < evs[j].at || evs[i].at == evs[j].at && evs[i].id < evs[j].id })
		if p, ok := bestPath(spec, evs, now); ok {
			paths = append(paths, p)
		}
	}
	return summarize(spec, paths), nil
}

// funnelRows reads the candidates' events that can matter: the steps'
// (every event for a strict funnel) from entry to the end of the last
// window.
func (s *Service) funnelRows(ctx context.Context, shopID int64, spec funnelSpec, candidates *roaring.Bitmap) (map[int64][]ev, error) {
	query := `SELECT member_id, id, name, at FROM analytics_events WHERE shop_id = ? AND at >= ? AND at < ? AND member_id > 0`
	args := []any{shopID, spec.from, spec.to + spec.window}
	if spec.order != Strict {
		names := slices.Compact(slices.Sorted(slices.Values(spec.steps)))
		query += ` AND name IN (?` + strings.Repeat(", ?", len(names)-1) + `)`
		for _, n := range names {
			args = append(args, n)
		}
	}
	rows, err := s.db.Query(ctx, query, args...)
	if err != nil {
		return nil, errs.Wrap("funnel", err)
	}
	defer rows.Close()
	out := map[int64][]ev{}
	for rows.Next() {
		var m int64
		var e ev
		if err := rows.Scan(&m, &e.id, &e.name, &e.at); err != nil {
			return nil, errs.Wrap("funnel", err)
		}
		if m <= 1<<32-1 && candidates.Contains(uint32(m)) {
			out[m] = append(out[m], e)
		}
	}
	return out, errs.Wrap("funnel", rows.Err())
}

// bestPath tries every entry (a step-1 event in the range) and keeps the
// attempt that reached most steps, the earliest of those.
func bestPath(spec funnelSpec, evs []ev, now int64) (memberPath, bool) {
	best, found := memberPath{}, false
	for i, e := range evs {
		if e.name != spec.steps[0] || e.at < spec.from || e.at >= spec.to {
			continue
		}
		p := attempt(spec, evs, i)
		p.open = p.reached < len(spec.steps) && e.at+spec.window > now
		if !found || p.reached > best.reached {
			best, found = p, true
		}
	}
	return best, found
}

// attempt follows the steps from the entry evs[i].
func attempt(spec funnelSpec, evs []ev, i int) memberPath {
	n := len(spec.steps)
	times := make([]int64, n)
	times[0] = evs[i].at
	end := evs[i].at + spec.window
	if spec.order == Any {
		return anyOrder(spec, evs[i+1:], times, end)
	}
	k := 1
	for _, e := range evs[i+1:] {
		if k == n || e.at > end {
			break
		}
		switch {
		case e.name == spec.steps[k]:
			times[k] = e.at
			k++
		case spec.order == Strict:
			return memberPath{reached: k, times: times[:k]}
		}
	}
	return memberPath{reached: k, times: times[:k]}
}

// anyOrder: steps 2.. each done once within the window in any order; the
// member reached step k when steps 1..k are all done, at the latest of
// their times.
func anyOrder(spec funnelSpec, evs []ev, times []int64, end int64) memberPath {
	n := len(spec.steps)
	done := make([]bool, n)
	done[0] = true
	index := map[string]int{}
	for k, s := range spec.steps[1:] {
		index[s] = k + 1
	}
	for _, e := range evs {
		if e.at > end {
			break
		}
		if k, ok := index[e.name]; ok && !done[k] {
			done[k], times[k] = true, e.at
		}
	}
	k := 1
	for k < n && done[k] {
		times[k] = max(times[k], times[k-1])
		k++
	}
	return memberPath{reached: k, times: times[:k]}
}

// summarize counts the members' paths into steps.
func summarize(spec funnelSpec, paths []memberPath) Funnel {
	n := len(spec.steps)
	f := Funnel{Entered: len(paths), Steps: make([]FunnelStep, n)}
	deltas := make([][]int64, n)
	for _, p := range paths {
		for k := 0; k < p.reached; k++ {
			f.Steps[k].Reached++
			if k > 0 {
				deltas[k] = append(deltas[k], p.times[k]-p.times[k-1])
			}
		}
		if p.reached < n {
			if p.open {
				f.Steps[p.reached].InProgress++
			} else {
				f.Steps[p.reached].DroppedOff++
			}
		}
	}
	for k := range f.Steps {
		st := &f.Steps[k]
		st.Name = spec.steps[k]
		st.Conversion = ratio(st.Reached, f.Entered)
		st.FromPrevious = 1
		if k > 0 {
			st.FromPrevious = ratio(st.Reached, f.Steps[k-1].Reached)
			st.MedianSeconds = median(deltas[k])
		}
	}
	if f.Entered == 0 {
		f.Steps[0].FromPrevious = 0
	}
	return f
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// median of ms durations, in seconds (nil when empty).
func median(ms []int64) *float64 {
	if len(ms) == 0 {
		return nil
	}
	slices.Sort(ms)
	m := float64(ms[len(ms)/2])
	if len(ms)%2 == 0 {
		m = float64(ms[len(ms)/2-1]+ms[len(ms)/2]) / 2
	}
	m /= 1000
	return &m
}
