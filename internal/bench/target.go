package bench

import (
	"fmt"
	"strings"
	"time"
)

// Target is what a scenario must reach; zero fields are not checked.
type Target struct {
	MinRatio float64       // requests/s as a share of the bare ceiling
	MinRPS   float64       // requests/s
	MaxP99   time.Duration // 99th percentile latency, strictly below
}

// String describes t, e.g. "≥50% of bare, p99 < 10ms".
func (t Target) String() string {
	var parts []string
	if t.MinRatio > 0 {
		parts = append(parts, fmt.Sprintf("≥%.0f%% of bare", t.MinRatio*100))
	}
	if t.MinRPS > 0 {
		parts = append(parts, fmt.Sprintf("≥%.0f/s", t.MinRPS))
	}
	if t.MaxP99 > 0 {
		parts = append(parts, "p99 < "+t.MaxP99.String())
	}
	return strings.Join(parts, ", ")
}

// Zero reports whether t checks nothing.
func (t Target) Zero() bool { return t == Target{} }

// Met reports whether a scenario at rps with the given p99 meets t, given
// the bare ceiling bareRPS (0 = unknown, which fails a MinRatio target),
// and a list of what it missed.
func (t Target) Met(rps, bareRPS float64, p99 time.Duration, errors uint64) (bool, []string) {
	var missed []string
	if t.MinRatio > 0 {
		if bareRPS <= 0 {
			missed = append(missed, "no bare ceiling measured")
		} else if r := rps / bareRPS; r < t.MinRatio {
			missed = append(missed, fmt.Sprintf("%.0f%% of bare < %.0f%%", r*100, t.MinRatio*100))
		}
	}
	if t.MinRPS > 0 && rps < t.MinRPS {
		missed = append(missed, fmt.Sprintf("%.0f/s < %.0f/s", rps, t.MinRPS))
	}
	if t.MaxP99 > 0 && p99 >= t.MaxP99 {
		missed = append(missed, fmt.Sprintf("p99 %s ≥ %s", p99.Round(10*time.Microsecond), t.MaxP99))
	}
	if errors > 0 {
		missed = append(missed, fmt.Sprintf("%d errors", errors))
	}
	return len(missed) == 0, missed
}
