package httpx

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/errs"
)

type decodeTarget struct {
	Name     string            `json:"name"`
	Quantity int               `json:"quantity"`
	Items    []decodeTarget    `json:"items"`
	Tags     map[string]string `json:"tags"`
}

func decode(body, contentType string) error {
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	var dst decodeTarget
	return Decode(httptest.NewRecorder(), r, &dst, 0)
}

func TestDecodeRefusesBadTextAndRepeatedNames(t *testing.T) {
	for _, c := range []struct {
		body, code string
	}{
		{`{"name":"a\u0000b"}`, "invalid_text"},
		{`{"name":"a\\\u0000b"}`, "invalid_text"},
		{"{\"name\":\"a\xffb\"}", "invalid_text"},
		{"{\"tags\":{\"a\xff\":\"b\"}}", "invalid_text"},
		{`{"quantity":1,"quantity":2}`, "duplicate_field"},
		{`{"Quantity":5,"quantity":1}`, "duplicate_field"},
		{`{"quantity":5,"quantit\u0079":1}`, "duplicate_field"},
		{"{\"tags\":{\"s\":\"1\",\"\u017f\":\"2\"}}", "duplicate_field"}, // ſ folds to s, as Go folds struct field names
		{`{"items":[{"name":"a","NAME":"b"}]}`, "duplicate_field"},
		{`{"tags":{"k":"1","k":"2"}}`, "duplicate_field"},
	} {
		err := decode(c.body, "application/json")
		if e := errs.As(err); err == nil || e.Code != c.code || e.Kind != errs.Invalid {
			t.Errorf("%s: %v, want %s", c.body, err, c.code)
		}
	}
	for _, ok := range []string{
		`{"name":"a\\u0000b"}`, // an escaped backslash, then the text u0000
		`{"name":"quantity","quantity":1}`,
		`{"items":[{"name":"a"},{"name":"b"}],"name":"c"}`,
		`{"tags":{"k":"1","x":"2"}}`,
		`{"name":"\ud800"}`,
	} {
		if err := decode(ok, "application/json; charset=utf-8"); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

func TestDecodeNeedsJSONContentType(t *testing.T) {
	for _, ct := range []string{"text/plain", "", "application/x-www-form-urlencoded", "application/jsonp"} {
		if err := decode(`{"name":"x"}`, ct); errs.As(err).Code != "unsupported_media_type" {
			t.Errorf("%q: %v", ct, err)
		}
	}
	for _, ct := range []string{"application/json", "Application/JSON; charset=utf-8", "application/merge-patch+json"} {
		if err := decode(`{"name":"x"}`, ct); err != nil {
			t.Errorf("%q: %v", ct, err)
		}
	}
	if err := decode(``, ""); errs.As(err).Code != "empty_body" {
		t.Errorf("no body and no type: %v", err)
	}
}

func TestRetryAfterIsTheLimitersWait(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "60", 300 * time.Millisecond: "1", 2 * time.Second: "2", 2001 * time.Millisecond: "3"} {
		w := httptest.NewRecorder()
		WriteError(w, httptest.NewRequest("GET", "/", nil), &errs.Error{Kind: errs.RateLimited, Code: "slow", RetryAfter: d})
		if got := w.Header().Get("Retry-After"); got != want || w.Code != http.StatusTooManyRequests {
			t.Errorf("%v: Retry-After %q, want %q", d, got, want)
		}
	}
}

func TestHardenChecksTextAndSetsHeaders(t *testing.T) {
	h := Harden(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }),
		Hardening{NoStore: []string{"/api/"}})
	serve := func(r *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	r := httptest.NewRequest("GET", "https://shop.example.com/api/v1/me", nil)
	w := serve(r)
	if w.Code != 204 || w.Header().Get("Strict-Transport-Security") != HSTS || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("over TLS: %d %v", w.Code, w.Header())
	}
	w = serve(httptest.NewRequest("GET", "http://shop.example.com/healthz", nil))
	if w.Header().Get("Strict-Transport-Security") != "" || w.Header().Get("Cache-Control") != "" {
		t.Fatalf("plain /healthz: %v", w.Header())
	}
	for _, bad := range []*http.Request{
		httptest.NewRequest("GET", "/api/v1/orders?order_no=a%00b", nil),
		httptest.NewRequest("GET", "/api/v1/orders?phone=%ff", nil),
		httptest.NewRequest("GET", "/api/v1/orders/%ff", nil),
		func() *http.Request {
			r := httptest.NewRequest("GET", "/api/v1/products", nil)
			r.Header.Set("X-Appid", "wx\xff")
			return r
		}(),
	} {
		if w := serve(bad); w.Code != 400 || !strings.Contains(w.Body.String(), "invalid_text") {
			t.Errorf("%s %v: %d %s", bad.URL, bad.Header, w.Code, w.Body)
		}
	}
}
