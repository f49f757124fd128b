// Package httpx holds kaidian's HTTP conventions: JSON in and out, errors as
// {"code","message","fields"}, a route registry that also feeds the OpenAPI
// document, and the middleware every request passes through.
package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/platform/errs"
)

// DefaultBodyLimit caps request bodies unless a route sets its own.
const DefaultBodyLimit = 1 << 20

// ErrorBody is the JSON shape of every error response.
type ErrorBody struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
	// Challenge is only in a login's 401 second_factor_required.
	Challenge string `json:"challenge,omitempty" doc:"401 second_factor_required at login: send it with a code to POST /admin/api/v1/auth/login/totp within 5 minutes"`
}

var kindStatus = map[errs.Kind]int{
	errs.Internal:        http.StatusInternalServerError,
	errs.Invalid:         http.StatusBadRequest,
	errs.Unauthenticated: http.StatusUnauthorized,
	errs.Forbidden:       http.StatusForbidden,
	errs.NotFound:        http.StatusNotFound,
	errs.Conflict:        http.StatusConflict,
	errs.TooLarge:        http.StatusRequestEntityTooLarge,
	errs.Unsupported:     http.StatusUnsupportedMediaType,
	errs.RateLimited:     http.StatusTooManyRequests,
	errs.Unavailable:     http.StatusServiceUnavailable,
	errs.Gone:            http.StatusGone,
	errs.Unprocessable:   http.StatusUnprocessableEntity,
}

// Status returns the HTTP status for an error kind.
func Status(k errs.Kind) int { return kindStatus[k] }

// WriteJSON writes v as JSON with status.
// The body is encoded into a pooled buffer first, so it goes out with a
// Content-Length in one write instead of chunked. HTML escaping is off:
// responses are application/json with nosniff, never HTML.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	if v == nil {
		w.WriteHeader(status)
		return
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer putBuf(buf)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"code":"internal","message":"internal error"}` + "\n"))
		return
	}
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// WriteEncoded writes body, a JSON document the caller encoded before (a
// cached response), as WriteJSON would write it.
func WriteEncoded(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putBuf returns a buffer to the pool unless it grew large (a big import
// report), which would pin memory.
func putBuf(b *bytes.Buffer) {
	if b.Cap() > 256<<10 {
		return
	}
	b.Reset()
	bufPool.Put(b)
}

// Respond writes a service result: v as JSON with status, or, when err is
// set, returns err for the route to write.
func Respond(w http.ResponseWriter, status int, v any, err error) error {
	if err != nil {
		return err
	}
	WriteJSON(w, status, v)
	return nil
}

// WriteError writes err as a JSON error. Internal errors are logged with the
// request id and shown only as "internal error".
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := errs.As(err)
	status := Status(e.Kind)
	if e.Kind == errs.Internal {
		Logger(r.Context()).Error("request failed", "err", err.Error(), "path", r.URL.Path)
	}
	if e.Kind == errs.RateLimited {
		w.Header().Set("Retry-After", retryAfter(e.RetryAfter))
	}
	WriteJSON(w, status, ErrorBody{Code: e.Code, Message: e.Message, Fields: e.Fields, Challenge: e.Challenge})
}

// retryAfter is a Retry-After value in whole seconds, rounded up: the
// limiter's own wait when the error carries it, else a minute.
func retryAfter(d time.Duration) string {
	if d <= 0 {
		return "60"
	}
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

// Decode reads a JSON body into dst: at most limit bytes (0 = default),
// unknown fields rejected, exactly one JSON value. The body must be sent as
// application/json (a text/plain body is what a cross-site form can send:
// login CSRF), hold only valid UTF-8 without NUL (JSON's \u0000 included:
// PostgreSQL refuses both, so both databases see the same input), and name
// each field once: Go's decoder matches names case-insensitively and keeps
// the last, so {"Quantity":5,"quantity":1} would quietly mean 1. Every
// failure is a 4xx *errs.Error that names the field when it can.
func Decode(w http.ResponseWriter, r *http.Request, dst any, limit int64) error {
	if limit <= 0 {
		limit = DefaultBodyLimit
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return decodeError(err)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return decodeError(io.EOF)
	}
	if !isJSONType(r.Header.Get("Content-Type")) {
		return errs.E(errs.Unsupported, "unsupported_media_type", "the body must be sent as Content-Type: application/json")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errs.E(errs.Invalid, "malformed_json", "the body must hold a single JSON value")
	}
	if !utf8.Valid(raw) || hasNULEscape(raw) {
		return ErrInvalidText("body")
	}
	return checkFieldNames(raw)
}

func isJSONType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}
func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return errs.E(errs.TooLarge, "body_too_large", fmt.Sprintf("the body is over %d bytes", tooBig.Limit))
	case errors.Is(err, io.EOF):
		return errs.E(errs.Invalid, "empty_body", "the body is empty; send a JSON object")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return errs.E(errs.Invalid, "malformed_json", "the body is not valid JSON")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		msg := fmt.Sprintf("must be %s", jsonKind(typ.Type.Kind().String()))
		return &errs.Error{Kind: errs.Invalid, Code: "invalid_type", Message: field + " " + msg, Fields: map[string]string{field: msg}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &errs.Error{Kind: errs.Invalid, Code: "unknown_field", Message: "unknown field " + field, Fields: map[string]string{field: "unknown field"}}
	default:
		return errs.E(errs.Invalid, "malformed_json", "the body is not valid JSON")
	}
}

func jsonKind(goKind string) string {
	switch {
	case strings.HasPrefix(goKind, "int"), strings.HasPrefix(goKind, "uint"):
		return "an integer in range"
	case strings.HasPrefix(goKind, "float"):
		return "a number"
	case goKind == "string":
		return "a string"
	case goKind == "bool":
		return "true or false"
	case goKind == "slice", goKind == "array":
		return "an array"
	default:
		return "an object"
	}
}

// PathID parses the path value name as a positive int64 id.
func PathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.Field(name, "invalid_id", name+" must be a positive integer")
	}
	return id, nil
}

// QueryInt parses the query parameter name as an int64 in [min, max],
// returning def when absent.
func QueryInt(r *http.Request, name string, def, min, max int64) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < min || n > max {
		return 0, errs.Field(name, "invalid_query", fmt.Sprintf("%s must be an integer from %d to %d", name, min, max))
	}
	return n, nil
}

// logDiscard is used when a request has no logger (tests that call handlers directly).
var logDiscard = slog.New(slog.DiscardHandler)

// BearerToken returns the token of an Authorization: Bearer header.
func BearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:]), true
	}
	return "", false
}
