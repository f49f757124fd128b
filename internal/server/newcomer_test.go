package server_test

import (
	"net/http"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// TestRootLeadsToTheConsole: opening the server's address in a browser
// lands on the admin console, not on a JSON 404.
func TestRootLeadsToTheConsole(t *testing.T) {
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(e.ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/admin/" {
		t.Fatalf("GET / = %d Location %q, want 302 to /admin/", res.StatusCode, res.Header.Get("Location"))
	}
	if r := e.do(caller{}, "GET", "/no-such-page", nil); r.status != 404 || r.code() != "route_not_found" {
		t.Fatalf("an unknown path: %d %s", r.status, r.body)
	}
}
