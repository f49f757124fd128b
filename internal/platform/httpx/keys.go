package httpx

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Lists ordered by more than an id (a rank, a date, then the id) page with a
// cursor that holds the last item's sort keys: the next page starts after
// that position, so a row added or changed meanwhile never shifts a page.

// EncodeKeys hides a position given by several sort keys in an opaque
// cursor (see EncodeCursor).
func EncodeKeys(keys ...int64) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = strconv.FormatInt(k, 10)
	}
	return base64.RawURLEncoding.EncodeToString([]byte("k2:" + strings.Join(parts, ".")))
}

// DecodeKeys reads a cursor of EncodeKeys holding n keys; "" is nil (the
// first page).
func DecodeKeys(s string, n int) ([]int64, error) {
	if s == "" {
		return nil, nil
	}
	bad := errs.Field("cursor", "invalid_cursor", "cursor must be the next_cursor of a previous page")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 3 || string(b[:3]) != "k2:" {
		return nil, bad
	}
	parts := strings.Split(string(b[3:]), ".")
	if len(parts) != n {
		return nil, bad
	}
	keys := make([]int64, n)
	for i, p := range parts {
		if keys[i], err = strconv.ParseInt(p, 10, 64); err != nil {
			return nil, bad
		}
	}
	return keys, nil
}

// PageQueryKeys reads ?cursor= (a cursor of n keys) and ?limit= (1 to
// MaxLimit, default 20).
func PageQueryKeys(r *http.Request, n int) (after []int64, limit int, err error) {
	if after, err = DecodeKeys(r.URL.Query().Get("cursor"), n); err != nil {
		return nil, 0, err
	}
	l, err := QueryInt(r, "limit", 20, 1, MaxLimit)
	return after, int(l), err
}

// PageOfKeys cuts rows (queried with limit+1) to a page like PageOf; the
// next cursor holds the sort keys of the page's last item.
func PageOfKeys[T any](rows []T, limit int, keys func(T) []int64) Page[T] {
	if len(rows) <= limit {
		return NewPage(rows, 0)
	}
	rows = rows[:limit]
	p := NewPage(rows, 0)
	p.NextCursor = EncodeKeys(keys(rows[len(rows)-1])...)
	return p
}
