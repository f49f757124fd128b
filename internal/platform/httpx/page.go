package httpx

import (
	"encoding/base64"
	"net/http"
	"strconv"

	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Page is the one shape of every list the API answers: a page of items and
// an opaque cursor for the next page, absent on the last page. A client
// passes it back as ?cursor= (with the same filters) until it is absent.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty" doc:"pass as ?cursor= for the next page; absent on the last page"`
}

// MaxLimit is the largest page any list answers.
const MaxLimit = 100

// PageParams documents cursor and limit; a list route appends its filters.
func PageParams(extra ...Param) []Param {
	return append(extra,
		Param{Name: "cursor", Type: "string", Description: "next_cursor of the previous page; absent for the first page"},
		Param{Name: "limit", Type: "integer", Description: "items per page, 1 to 100 (default 20)"})
}

// NewPage makes a page of items whose next page starts after next (0 =
// this is the last page). Items are never null.
func NewPage[T any](items []T, next int64) Page[T] {
	if items == nil {
		items = []T{}
	}
	p := Page[T]{Items: items}
	if next != 0 {
		p.NextCursor = EncodeCursor(next)
	}
	return p
}

// PageOf cuts rows (queried with limit+1) to a page: when there is one row
// more than limit, the page ends at the limit and key of its last item is
// the cursor of the next.
func PageOf[T any](rows []T, limit int, key func(T) int64) Page[T] {
	if len(rows) <= limit {
		return NewPage(rows, 0)
	}
	rows = rows[:limit]
	return NewPage(rows, key(rows[len(rows)-1]))
}

// EncodeCursor hides a position (an id, a rank) in an opaque cursor, so
// clients do not build cursors of their own and the server may change what
// a cursor holds.
func EncodeCursor(n int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("k1:" + strconv.FormatInt(n, 10)))
}

// DecodeCursor reads a cursor of EncodeCursor; "" is 0 (the first page).
func DecodeCursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil && len(b) > 3 && string(b[:3]) == "k1:" {
		if n, err := strconv.ParseInt(string(b[3:]), 10, 64); err == nil && n > 0 {
			return n, nil
		}
	}
	return 0, errs.Field("cursor", "invalid_cursor", "cursor must be the next_cursor of a previous page")
}

// PageQuery reads ?cursor= and ?limit= (1 to MaxLimit, default 20).
func PageQuery(r *http.Request) (after int64, limit int, err error) {
	if after, err = DecodeCursor(r.URL.Query().Get("cursor")); err != nil {
		return 0, 0, err
	}
	n, err := QueryInt(r, "limit", 20, 1, MaxLimit)
	return after, int(n), err
}
