package bench

import (
	"math"
	"math/bits"
	"time"
)

// Histogram records durations in log-linear buckets, like HdrHistogram:
// values below 2^subBits ns are exact, larger ones fall in buckets whose
// width is under 1/128 of their value (so a percentile is off by less than
// 0.8%). It needs no allocation per value, merges cheaply, and is not safe
// for concurrent use: keep one per goroutine and Merge them.
type Histogram struct {
	counts [histBuckets]uint64
	n      uint64
	sum    time.Duration
	min    time.Duration
	max    time.Duration
}

const (
	subBits     = 8
	subCount    = 1 << subBits // values per magnitude
	halfCount   = subCount / 2
	maxShift    = 40 // up to 2^48 ns, about 78 hours
	histBuckets = (maxShift + 2) * halfCount
)

// bucketOf returns v's bucket: v itself below subCount, otherwise
// shift*halfCount + the top subBits bits of v.
func bucketOf(v uint64) int {
	shift := bits.Len64(v) - subBits
	if shift <= 0 {
		return int(v)
	}
	shift = min(shift, maxShift)
	return shift*halfCount + int(min(v>>uint(shift), subCount-1))
}

// bucketRange returns the smallest and largest values of bucket b.
func bucketRange(b int) (lo, hi uint64) {
	if b < subCount {
		return uint64(b), uint64(b)
	}
	shift := uint(b/halfCount - 1)
	top := uint64(b - int(shift)*halfCount)
	return top << shift, (top+1)<<shift - 1
}

// Record adds one duration (negative ones count as 0).
func (h *Histogram) Record(d time.Duration) {
	d = max(d, 0)
	h.counts[bucketOf(uint64(d))]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
}

// Merge adds o's values to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.n }

// Min, Max and Mean of the recorded values (0 when empty).
func (h *Histogram) Min() time.Duration { return h.min }

// Max is the largest recorded value.
func (h *Histogram) Max() time.Duration { return h.max }

// Mean is the average recorded value.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// Quantile returns the q-quantile (0 < q <= 1) by the nearest-rank method:
// the smallest recorded value such that at least q of all values are at or
// below it, reported as the upper edge of its bucket (capped by Max).
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for b, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bucketRange(b)
			return min(time.Duration(hi), h.max)
		}
	}
	return h.max
}

// Quantile is the exact nearest-rank q-quantile of sorted values, for
// checking the histogram.
func Quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}
