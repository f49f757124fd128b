package recs

import (
	"math"
	"reflect"
	"testing"
	"time"
)

const hour = int64(time.Hour / time.Millisecond)

// handMade is a small history (all bought at "now", so no decay):
//
//	buyer 1: order 10 {1,2,3}; order 11 {4}
//	buyer 2: order 20 {1,2}
//	buyer 3: order 30 {1}; order 31 {2}; order 32 {5}
//	buyer 4: order 40 {3,5}
func handMade(now int64) []Line {
	return []Line{
		{10, 1, 1, now}, {10, 1, 2, now}, {10, 1, 3, now}, {11, 1, 4, now},
		{20, 2, 1, now}, {20, 2, 2, now},
		{30, 3, 1, now}, {31, 3, 2, now}, {32, 3, 5, now},
		{40, 4, 3, now}, {40, 4, 5, now},
	}
}

var handCats = map[int64]int64{1: 100, 2: 100, 3: 200, 4: 200, 5: 200}

func near(a, b float32) bool { return math.Abs(float64(a-b)) < 1e-5 }

func wantList(t *testing.T, name string, got []Neighbor, want []Neighbor) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %v, want %v", name, got, want)
	}
	for i := range want {
		if got[i].ID != want[i].ID || !near(got[i].Score, want[i].Score) {
			t.Fatalf("%s: got %v, want %v", name, got, want)
		}
	}
}

func TestBuildHandMadeHistory(t *testing.T) {
	now := int64(1_000_000_000_000)
	m := Build(handMade(now), handCats, Params{HalfLife: 90 * 24 * time.Hour, Keep: 3, Now: now})
	// Orders containing: 1→3 (10,20,30), 2→3 (10,20,31), 3→2 (10,40), 4→1, 5→2 (32,40).
	// Together pairs: (1,2)=2 [10,20], (1,3)=1, (2,3)=1, (3,5)=1.
	wantList(t, "together 1", m.Together[1], []Neighbor{{2, float32(2 / math.Sqrt(9))}, {3, float32(1 / math.Sqrt(6))}})
	wantList(t, "together 3", m.Together[3], []Neighbor{{5, 0.5}, {1, float32(1 / math.Sqrt(6))}, {2, float32(1 / math.Sqrt(6))}})
	if _, ok := m.Together[4]; ok {
		t.Fatalf("4 was always bought alone: %v", m.Together[4])
	}
	// Buyers of: 1→3 (b1,b2,b3), 2→3, 3→2 (b1,b4), 4→1, 5→2 (b3,b4).
	// Also bought (different orders of one buyer): b1: (1,4),(2,4),(3,4);
	// b3: (1,2),(1,5),(2,5). b2's and b4's products share their only order.
	wantList(t, "also 4", m.AlsoBought[4], []Neighbor{{3, float32(1 / math.Sqrt(2))}, {1, float32(1 / math.Sqrt(3))}, {2, float32(1 / math.Sqrt(3))}})
	wantList(t, "also 5", m.AlsoBought[5], []Neighbor{{1, float32(1 / math.Sqrt(6))}, {2, float32(1 / math.Sqrt(6))}})
	wantList(t, "also 1", m.AlsoBought[1], []Neighbor{{4, float32(1 / math.Sqrt(3))}, {5, float32(1 / math.Sqrt(6))}, {2, float32(1.0 / 3)}})
	// Popularity is decayed orders, ties by id.
	wantList(t, "popular", m.Popular, []Neighbor{{1, 3}, {2, 3}, {3, 2}})
	wantList(t, "category 200", m.ByCategory[200], []Neighbor{{3, 2}, {5, 2}, {4, 1}})
	if len(m.Repeat) != 0 {
		t.Fatalf("nobody bought a product twice: %v", m.Repeat)
	}
}

func TestBuildDecay(t *testing.T) {
	now := int64(1_000_000_000_000)
	halfLife := 10 * 24 * time.Hour
	old := now - halfLife.Milliseconds() // counts half
	lines := []Line{
		{1, 1, 1, old}, {1, 1, 2, old}, // an old basket {1,2}
		{2, 2, 1, now}, {2, 2, 3, now}, // a new basket {1,3}
	}
	m := Build(lines, map[int64]int64{1: 1, 2: 1, 3: 1}, Params{HalfLife: halfLife, Keep: 5, Now: now})
	// N(1)=1.5, N(2)=0.5, N(3)=1; C(1,2)=0.5, C(1,3)=1.
	wantList(t, "together 1", m.Together[1], []Neighbor{{3, float32(1 / math.Sqrt(1.5))}, {2, float32(0.5 / math.Sqrt(0.75))}})
	wantList(t, "popular", m.Popular, []Neighbor{{1, 1.5}, {3, 1}, {2, 0.5}})
	// Without decay both baskets count the same.
	flat := Build(lines, map[int64]int64{1: 1, 2: 1, 3: 1}, Params{Keep: 5, Now: now})
	wantList(t, "no decay", flat.Together[1], []Neighbor{{2, float32(1 / math.Sqrt(2))}, {3, float32(1 / math.Sqrt(2))}})
}

func TestBuildSkipsDeletedAndMarksRepeat(t *testing.T) {
	now := int64(1_000_000_000_000)
	var lines []Line
	for b := int64(1); b <= 4; b++ { // everyone buys 7 twice; buyer 1 also buys 9 (deleted) with it
		lines = append(lines, Line{b * 10, b, 7, now - 2*hour}, Line{b*10 + 1, b, 7, now - hour}, Line{b*10 + 1, b, 8, now - hour})
	}
	lines = append(lines, Line{10, 1, 9, now - 2*hour})
	m := Build(lines, map[int64]int64{7: 1, 8: 1}, Params{HalfLife: 24 * time.Hour, Keep: 5, Now: now})
	if !m.Repeat[7] || m.Repeat[8] {
		t.Fatalf("repeat = %v, want 7 only", m.Repeat)
	}
	for _, l := range [][]Neighbor{m.Together[7], m.AlsoBought[7], m.Popular} {
		for _, n := range l {
			if n.ID == 9 {
				t.Fatalf("deleted product 9 recommended: %v", l)
			}
		}
	}
}

func TestForProductOrderAndExclusions(t *testing.T) {
	now := int64(1_000_000_000_000)
	m := Build(handMade(now), handCats, Params{Keep: 10, Now: now})
	got := ForProduct(m, 1, 100, nil)
	want := []Pick{{2, SourceTogether}, {3, SourceTogether}, {4, SourceAlsoBought}, {5, SourceAlsoBought}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("picks = %v, want %v", got, want)
	}
	got = ForProduct(m, 4, 200, func(id int64) bool { return id == 3 })
	want = []Pick{{1, SourceAlsoBought}, {2, SourceAlsoBought}, {5, SourceCategory}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("picks with 3 excluded = %v, want %v", got, want)
	}
	// No model yet: nothing (the service answers an empty list).
	if got := ForProduct(nil, 1, 100, nil); len(got) != 0 {
		t.Fatalf("no model: %v", got)
	}
}

func TestForMember(t *testing.T) {
	now := int64(1_000_000_000_000)
	m := Build(handMade(now), handCats, Params{Keep: 10, Now: now})
	seeds := []Seed{{ID: 4, Weight: 1, Category: 200}}
	got := ForMember(m, seeds, func(id int64) bool { return id == 4 })
	want := []Pick{{3, SourceForYou}, {1, SourceForYou}, {2, SourceForYou}, {5, SourceCategory}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("picks = %v, want %v", got, want)
	}
}

func TestCodecRoundTrip(t *testing.T) {
	now := int64(1_000_000_000_000)
	lines := handMade(now)
	lines = append(lines, Line{50, 5, 4, now}, Line{51, 5, 4, now}, Line{60, 6, 4, now}, Line{61, 6, 4, now})
	m := Build(lines, handCats, Params{HalfLife: time.Hour, Keep: 10, Now: now})
	back, err := Decode(m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m, back) {
		t.Fatalf("round trip:\n%+v\n%+v", m, back)
	}
	for _, bad := range [][]byte{nil, {0}, {codecVersion}, m.Encode()[:20], {codecVersion, 0xff, 0xff, 0xff}} {
		if _, err := Decode(bad); err == nil {
			t.Fatalf("decoded garbage %v", bad)
		}
	}
}
