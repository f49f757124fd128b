package aftersale

import "testing"

// TestLineSharesAddUpToWhatWasPaid: however a line's units are split over
// requests, their shares add up to what the line cost, and no share is off
// its pro-rata value by a fen or more.
func TestLineSharesAddUpToWhatWasPaid(t *testing.T) {
	for _, c := range []struct {
		paid, bought int64
		splits       []int64
	}{
		{10000, 3, []int64{1, 1, 1}},
		{10000, 3, []int64{2, 1}},
		{9999, 7, []int64{3, 2, 1, 1}},
		{1, 3, []int64{1, 1, 1}},
		{0, 2, []int64{1, 1}},
		{29700, 3, []int64{2, 1}},
	} {
		var used, sum int64
		for _, want := range c.splits {
			s := lineShare(c.paid, c.bought, used, want)
			exact := float64(c.paid) * float64(want) / float64(c.bought)
			if float64(s) < exact-1 || float64(s) > exact+1 || s < 0 {
				t.Fatalf("%+v: %d units after %d: %d, pro rata %.2f", c, want, used, s, exact)
			}
			used += want
			sum += s
		}
		if sum != c.paid {
			t.Fatalf("%+v: shares add up to %d", c, sum)
		}
	}
	if got := lineShare(29700, 3, 0, 2); got != 19800 {
		t.Fatalf("2 of 3 units of 29700: %d", got)
	}
}
