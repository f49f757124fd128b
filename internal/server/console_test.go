package server_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/db"
)

func TestConsoleIsServedAtAdminWithoutShadowingTheAPI(t *testing.T) {
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil)
	get := func(path string, hdr ...string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", e.ts.URL+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	for _, p := range []string{"/admin/", "/admin/orders/12", "/admin/login"} {
		res, body := get(p)
		if res.StatusCode != 200 || !strings.Contains(body, "<") || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %d %s %q", p, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		csp := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self';", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-") {
			t.Errorf("CSP allows script it should not: %q", csp)
		}
	}
	// Hashed assets: gzipped when asked, cached for a year.
	_, index := get("/admin/")
	m := regexp.MustCompile(`src="(/admin/assets/[^"]+\.js)"`).FindStringSubmatch(index)
	if m == nil {
		t.Fatalf("index.html names no script: %s", index)
	}
	res, body := get(m[1], "Accept-Encoding", "gzip")
	if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") ||
		!strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("%s: %d %v", m[1], res.StatusCode, res.Header)
	}
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if res, raw := get(m[1], "Accept-Encoding", "identity"); res.Header.Get("Content-Encoding") != "" || raw != string(plain) {
		t.Fatalf("without gzip: %q, %d bytes vs %d", res.Header.Get("Content-Encoding"), len(raw), len(plain))
	}
	if res, _ := get("/admin"); res.StatusCode != 301 || res.Header.Get("Location") != "/admin/" {
		t.Fatalf("/admin: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := get("/admin/assets/missing-123.js"); res.StatusCode != 404 {
		t.Fatalf("missing asset: %d", res.StatusCode)
	}
	// The API keeps its routes and its JSON 404.
	if res, body := get("/admin/api/v1/no-such-route"); res.StatusCode != 404 || !strings.Contains(body, "route_not_found") {
		t.Fatalf("unknown API route: %d %s", res.StatusCode, body)
	}
	if res, body := get("/admin/api/v1/auth/me"); res.StatusCode != 401 || !strings.Contains(body, `"code"`) {
		t.Fatalf("API route: %d %s", res.StatusCode, body)
	}
	if r := e.do(caller{}, "POST", "/admin/orders", "{}"); r.status != 405 {
		t.Fatalf("POST to a console page: %d", r.status)
	}
}
