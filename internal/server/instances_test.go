package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/config"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
	"github.com/kaidian/kaidian/internal/server"
)

// TestTwoInstancesShareEverything runs two servers on one database (and one
// WeChat): sessions, rate limits, catalog changes and WeChat access tokens
// are shared, because none of them lives only in one process.
func TestTwoInstancesShareEverything(t *testing.T) {
	for _, engine := range db.TestEngines() {
		t.Run(string(engine), func(t *testing.T) {
			dsn := db.TestDSN(t, engine)
			sb := sandbox.New()
			one, two := newEnv(t, dsn, sb), newEnv(t, dsn, sb)
			op := one.operator()
			two.must(op, 200, "GET", "/admin/api/v1/shops", nil)
			a := one.newShop(op, "甲", "enterprise")

			// A buyer session from one works on two, and a logout on two ends it on one.
			two.must(a.member, 200, "GET", "/api/v1/me", nil)
			buyer, _ := two.memberLogin(a.appid, "openid-two")
			one.must(buyer, 200, "GET", "/api/v1/me", nil)
			two.must(buyer, 204, "POST", "/api/v1/auth/logout", nil)
			if r := one.do(buyer, "GET", "/api/v1/me", nil); r.status != 401 {
				t.Fatalf("a logout on two must end the session on one: %d", r.status)
			}

			// A product created on one is found by a search on two.
			one.must(a.owner, 201, "POST", "/admin/api/v1/products", productBody(a.categoryID, "双实例同步连衣裙", true))
			waitFor(t, "the product to reach instance two", func() bool {
				r := two.do(caller{appid: a.appid}, "GET", "/api/v1/products?q=双实例", nil)
				return strings.Contains(r.String(), "双实例同步连衣裙")
			})

			// Login attempts are counted across both.
			bad := map[string]string{"username": "owner_" + a.appid, "password": "wrong-password"}
			for i := 0; i < 5; i++ {
				[]*env{one, two}[i%2].do(caller{}, "POST", "/admin/api/v1/auth/login", bad)
			}
			good := map[string]string{"username": "owner_" + a.appid, "password": "owner-pass-1"}
			if r := two.do(caller{}, "POST", "/admin/api/v1/auth/login", good); r.status != 429 {
				t.Fatalf("five failures spread over two servers must lock the account: %d %s", r.status, r.body)
			}

			// Both servers use one WeChat access token.
			for i, e := range []*env{one, two, one, two} {
				code, _ := sb.PhoneCode(a.appid, fmt.Sprintf("1380013800%d", i))
				e.must(a.member, 200, "POST", "/api/v1/me/phone", map[string]string{"code": code})
			}
			if n := sb.TokenFetches(a.appid); n != 1 {
				t.Fatalf("two servers fetched %d access tokens, want 1 shared", n)
			}
		})
	}
}

// TestGracefulShutdownFinishesInFlightRequests cancels the server while a
// slow request is in flight: the request still gets its answer.
func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	cfg, err := config.Load("test", []string{"--data", t.TempDir(), "--secret-key", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(400 * time.Millisecond)
		io.WriteString(w, "finished")
	})
	srv, err := server.New(context.Background(), cfg, slog.New(slog.DiscardHandler), server.Options{Extra: map[string]http.Handler{"/slow": slow}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	got := make(chan string, 1)
	go func() {
		res, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		got <- string(b)
	}()
	<-started
	cancel()
	if body := <-got; body != "finished" {
		t.Fatalf("the in-flight request got %q", body)
	}
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v", err)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Fatal("the server still accepts requests after shutdown")
	}
}
