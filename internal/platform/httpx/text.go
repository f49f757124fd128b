package httpx

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/platform/errs"
)

// ErrInvalidText is the error for text with a NUL character or bytes that
// are not UTF-8, in the named part of the request.
func ErrInvalidText(where string) error {
	msg := "must be UTF-8 text without NUL characters"
	return &errs.Error{Kind: errs.Invalid, Code: "invalid_text", Message: where + " " + msg, Fields: map[string]string{where: msg}}
}

// ValidText reports whether s is UTF-8 without NUL: text that both
// databases store alike (PostgreSQL refuses NUL and invalid UTF-8).
func ValidText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// CheckRequestText checks the text of a request outside its body: the path
// (and so its path parameters), every query parameter and every header.
func CheckRequestText(r *http.Request) error {
	if !ValidText(r.URL.Path) {
		return ErrInvalidText("path")
	}
	if r.URL.RawQuery != "" {
		for k, vs := range r.URL.Query() {
			if !ValidText(k) {
				return ErrInvalidText("query")
			}
			for _, v := range vs {
				if !ValidText(v) {
					return ErrInvalidText(k)
				}
			}
		}
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			if !ValidText(v) {
				return ErrInvalidText(k)
			}
		}
	}
	return nil
}

// hasNULEscape reports whether JSON text holds the escape \u0000 (a
// backslash-u preceded by an even number of other backslashes).
func hasNULEscape(raw []byte) bool {
	for i := 0; ; {
		k := bytes.Index(raw[i:], []byte("u0000"))
		if k < 0 {
			return false
		}
		k += i
		n := 0
		for j := k - 1; j >= 0 && raw[j] == '\\'; j-- {
			n++
		}
		if n%2 == 1 {
			return true
		}
		i = k + 1
	}
}

// checkFieldNames refuses a JSON document (already known to be valid) in
// which an object names a field twice, exactly or in another letter case.
func checkFieldNames(raw []byte) error {
	var stack [][]string // the folded keys of each open object; nil for arrays
	for i := 0; i < len(raw); {
		switch raw[i] {
		case '{':
			stack = append(stack, []string{})
		case '[':
			stack = append(stack, nil)
		case '}', ']':
			stack = stack[:len(stack)-1]
		case '"':
			end := stringEnd(raw, i)
			if top := len(stack) - 1; top >= 0 && stack[top] != nil && nextByte(raw, end) == ':' {
				key := unquote(raw[i:end])
				folded := foldKey(key)
				for _, k := range stack[top] {
					if k == folded {
						return &errs.Error{Kind: errs.Invalid, Code: "duplicate_field",
							Message: "field " + key + " appears more than once (names are case-insensitive)",
							Fields:  map[string]string{key: "appears more than once"}}
					}
				}
				stack[top] = append(stack[top], folded)
			}
			i = end
			continue
		}
		i++
	}
	return nil
}

// stringEnd returns the index just after the JSON string starting at i.
func stringEnd(raw []byte, i int) int {
	for j := i + 1; j < len(raw); j++ {
		switch raw[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(raw)
}

func nextByte(raw []byte, i int) byte {
	for ; i < len(raw); i++ {
		switch raw[i] {
		case ' ', '\t', '\n', '\r':
		default:
			return raw[i]
		}
	}
	return 0
}

func unquote(quoted []byte) string {
	if bytes.IndexByte(quoted, '\\') < 0 {
		return string(quoted[1 : len(quoted)-1])
	}
	var s string
	_ = json.Unmarshal(quoted, &s)
	return s
}

// foldKey folds letter case the way encoding/json matches field names
// (the Kelvin sign and the long s included).
func foldKey(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return strings.ToLower(strings.ToUpper(s))
		}
	}
	return strings.ToLower(s)
}

// checkRawBody checks a body that is not JSON (a CSV or rule-file import)
// for NUL and invalid UTF-8 before the handler reads it. JSON bodies are
// checked by Decode; webhooks (public routes) are left byte for byte as
// WeChat signed them.
func checkRawBody(r *http.Request, limit int64) error {
	if r.Body == nil || r.Body == http.NoBody || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return nil
	}
	if limit <= 0 {
		limit = DefaultBodyLimit
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return decodeError(err)
	}
	if int64(len(raw)) > limit {
		return decodeError(&http.MaxBytesError{Limit: limit})
	}
	if !ValidText(string(raw)) {
		return ErrInvalidText("body")
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	return nil
}
