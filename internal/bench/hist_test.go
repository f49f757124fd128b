package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsAreContiguous(t *testing.T) {
	prevHi := uint64(0)
	for b := 1; b < histBuckets; b++ {
		lo, hi := bucketRange(b)
		if lo != prevHi+1 || hi < lo {
			t.Fatalf("bucket %d is [%d, %d], previous ended at %d", b, lo, hi, prevHi)
		}
		if bucketOf(lo) != b || bucketOf(hi) != b {
			t.Fatalf("bucket %d: bucketOf(%d)=%d, bucketOf(%d)=%d", b, lo, bucketOf(lo), hi, bucketOf(hi))
		}
		prevHi = hi
	}
}

func TestQuantileExactForSmallValues(t *testing.T) {
	var h Histogram
	for v := 1; v <= 100; v++ { // 1..100 ns: below 256, every value has its bucket
		h.Record(time.Duration(v))
	}
	cases := map[float64]time.Duration{0.5: 50, 0.9: 90, 0.99: 99, 0.999: 100, 1: 100, 0.001: 1}
	for q, want := range cases {
		if got := h.Quantile(q); got != want {
			t.Errorf("Quantile(%v) = %v, want %v", q, got, want)
		}
	}
	if h.Count() != 100 || h.Min() != 1 || h.Max() != 100 || h.Mean() != 50 {
		t.Errorf("count %d min %v max %v mean %v", h.Count(), h.Min(), h.Max(), h.Mean())
	}
}

func TestQuantileWithinOnePercent(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var parts [4]Histogram
	var all []time.Duration
	for i := range 100_000 {
		// Log-normal-ish latencies from 50µs to a few hundred ms.
		d := time.Duration(50_000 * (1 + r.ExpFloat64()*r.ExpFloat64()*20))
		parts[i%4].Record(d)
		all = append(all, d)
	}
	var h Histogram
	for i := range parts {
		h.Merge(&parts[i])
	}
	slices.Sort(all)
	if h.Count() != uint64(len(all)) || h.Max() != all[len(all)-1] || h.Min() != all[0] {
		t.Fatalf("merged count %d min %v max %v", h.Count(), h.Min(), h.Max())
	}
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact, got := Quantile(all, q), h.Quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/128 {
			t.Errorf("q%v: histogram %v, exact %v", q, got, exact)
		}
	}
}

func TestExactQuantile(t *testing.T) {
	v := []time.Duration{10, 20, 30, 40}
	for q, want := range map[float64]time.Duration{0.25: 10, 0.5: 20, 0.51: 30, 0.99: 40, 1: 40} {
		if got := Quantile(v, q); got != want {
			t.Errorf("Quantile(%v) = %v, want %v", q, got, want)
		}
	}
	if Quantile(nil, 0.5) != 0 {
		t.Error("empty")
	}
	var h Histogram
	if h.Quantile(0.99) != 0 || h.Mean() != 0 {
		t.Error("empty histogram")
	}
}
