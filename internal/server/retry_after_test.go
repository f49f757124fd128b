package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// TestFlashClaimRetryAfterIsTheLimitersWindow: a flash-sale claim turned
// away for speed carries the limiter's own wait as Retry-After: the rest of
// the second for the per-address limit, the 300 ms gap for one buyer (both
// round up to 1 s), never the one-minute default.
func TestFlashClaimRetryAfterIsTheLimitersWindow(t *testing.T) {
	for _, engine := range db.TestEngines() {
		t.Run(string(engine), func(t *testing.T) {
			e := newEnv(t, db.TestDSN(t, engine), nil, "--flash-per-address", "2")
			a := e.newShop(e.operator(), "秒", "enterprise")
			e.setStock(a, 100)
			sale := e.newSale(a, "秒杀", 10, time.Now())
			path := fmt.Sprintf("/api/v1/flash-sales/%d/claim", sale)
			tok := e.must(a.member, 200, "GET", fmt.Sprintf("/api/v1/flash-sales/%d/token", sale), nil)["token"]
			tooFast := func(what string) response {
				for range 5 { // the same buyer twice within 300 ms: the buyer's gap
					if r := e.do(a.member, "POST", path, map[string]any{"token": tok}); r.code() == "too_many_requests" {
						return r
					}
				}
				t.Fatalf("%s: never refused as too fast", what)
				return response{}
			}
			r := tooFast("one buyer's claims")
			if r.status != 429 || r.header.Get("Retry-After") != "1" {
				t.Fatalf("a buyer's claim within 300 ms: %d Retry-After %q, want 429 and 1", r.status, r.header.Get("Retry-After"))
			}
			time.Sleep(1100 * time.Millisecond) // a fresh second for the address
			r = tooFast("three claims from one address in a second")
			if r.status != 429 || r.header.Get("Retry-After") != "1" {
				t.Fatalf("the address's third claim in a second: %d Retry-After %q, want 429 and 1", r.status, r.header.Get("Retry-After"))
			}
		})
	}
}
