package httpx

import (
	"encoding/base64"
	"reflect"
	"testing"
)

// TestKeyCursorRoundTrips: a keyed cursor gives back its keys (negative and
// zero too); a wrong count, an id cursor or made-up text is invalid_cursor.
func TestKeyCursorRoundTrips(t *testing.T) {
	keys := []int64{0, -5, 1764990000000, 42}
	got, err := DecodeKeys(EncodeKeys(keys...), 4)
	if err != nil || !reflect.DeepEqual(got, keys) {
		t.Fatalf("round trip: %v %v", got, err)
	}
	if got, err := DecodeKeys("", 3); got != nil || err != nil {
		t.Fatalf("empty cursor: %v %v", got, err)
	}
	for _, bad := range []string{EncodeKeys(1, 2), EncodeCursor(7), "bm9wZQ", "!!", base64.RawURLEncoding.EncodeToString([]byte("k2:1.a.3"))} {
		if _, err := DecodeKeys(bad, 3); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestPageOfKeys: the page ends at the limit and its cursor holds the last
// item's keys; a short result is the last page.
func TestPageOfKeys(t *testing.T) {
	key := func(n int64) []int64 { return []int64{n % 2, n} }
	p := PageOfKeys([]int64{1, 2, 3}, 2, key)
	if len(p.Items) != 2 || p.NextCursor != EncodeKeys(0, 2) {
		t.Fatalf("page: %+v", p)
	}
	if p := PageOfKeys([]int64{1, 2}, 2, key); p.NextCursor != "" {
		t.Fatalf("last page has a cursor: %+v", p)
	}
	if p := PageOfKeys[int64](nil, 2, key); p.Items == nil {
		t.Fatal("null items")
	}
}
