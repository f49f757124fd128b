package bench

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	appids := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/x" {
			select {
			case appids <- r.Header.Get("X-Appid"):
			default:
			}
		}
		if strings.HasPrefix(r.URL.Path, "/fail") {
			http.Error(w, "no", http.StatusTeapot)
			return
		}
		BareHandler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	for _, raw := range []bool{false, true} {
		name := map[bool]string{false: "net/http", true: "raw"}[raw]
		t.Run(name, func(t *testing.T) {
			cfg := RunConfig{Clients: 4, Warmup: 50 * time.Millisecond, Duration: 200 * time.Millisecond,
				Client: NewClient(4), Raw: raw, Seed: 1}
			ok := Run(context.Background(), cfg, Scenario{Name: "ok", Base: srv.URL,
				Next: func(r *rand.Rand) Request { return Request{Path: "/x", AppID: "wx1"} }})
			if ok.Requests < 10 || ok.Errors != 0 || ok.Latency.Count() != ok.Requests || ok.RPS() <= 0 {
				t.Fatalf("ok: %+v", ok)
			}
			if ok.AvgBytes() != float64(len(BareBody)) {
				t.Errorf("avg body %v, want %d", ok.AvgBytes(), len(BareBody))
			}
			if ok.Window < 200*time.Millisecond || ok.Window > time.Second {
				t.Errorf("window %v", ok.Window)
			}
			if got := <-appids; got != "wx1" {
				t.Errorf("X-Appid %q", got)
			}
			bad := Run(context.Background(), cfg, Scenario{Name: "bad", Base: srv.URL,
				Next: func(r *rand.Rand) Request { return Request{Path: "/fail"} }})
			if bad.Requests == 0 || bad.Errors != bad.Requests || bad.Statuses[http.StatusTeapot] != bad.Requests || len(bad.ErrSample) == 0 {
				t.Fatalf("bad: %+v", bad)
			}
		})
	}
}

func TestRunCountsTransportErrors(t *testing.T) {
	srv := httptest.NewServer(BareHandler())
	base := srv.URL
	srv.Close() // nothing listens any more
	res := Run(context.Background(), RunConfig{Clients: 2, Duration: 100 * time.Millisecond, Client: NewClient(2)},
		Scenario{Name: "down", Base: base, Next: func(*rand.Rand) Request { return Request{Path: "/"} }})
	if res.Requests == 0 || res.Errors != res.Requests {
		t.Fatalf("%+v", res)
	}
}

func TestTarget(t *testing.T) {
	tg := Target{MinRatio: 0.5, MaxP99: 10 * time.Millisecond}
	if ok, missed := tg.Met(30_000, 49_000, 9*time.Millisecond, 0); !ok {
		t.Errorf("missed %v", missed)
	}
	if ok, missed := tg.Met(20_000, 49_000, 10*time.Millisecond, 0); ok || len(missed) != 2 {
		t.Errorf("met, missed %v", missed)
	}
	if ok, _ := tg.Met(30_000, 0, time.Millisecond, 0); ok {
		t.Error("a ratio target passed without a bare ceiling")
	}
	if ok, _ := (Target{MinRPS: 2000}).Met(2500, 0, time.Second, 1); ok {
		t.Error("errors passed")
	}
	if s := (Target{MinRPS: 2000, MaxP99: 50 * time.Millisecond}).String(); s != "≥2000/s, p99 < 50ms" {
		t.Errorf("String %q", s)
	}
}

func TestParseStatus(t *testing.T) {
	m, err := parseStatus(strings.NewReader("Name:\tkaidian\nVmHWM:\t   81234 kB\nVmRSS:\t   51200 kB\nThreads:\t7\n"))
	if err != nil || m.RSS != 50<<20 || m.PeakRSS != 81234<<10 {
		t.Fatalf("%+v %v", m, err)
	}
	if _, err := parseStatus(strings.NewReader("Name:\tx\n")); err == nil {
		t.Error("no VmRSS accepted")
	}
	self, err := SelfMemory()
	if err != nil || self.RSS == 0 || self.HeapInuse == 0 {
		t.Errorf("self %+v %v", self, err)
	}
	a := TakeCPUSnapshot()
	time.Sleep(20 * time.Millisecond)
	if o := a.OtherCPU(TakeCPUSnapshot()); o < 0 {
		t.Errorf("other CPU %v", o)
	}
}

func TestRunPost(t *testing.T) {
	type seen struct{ method, key, ctype, body string }
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		select {
		case got <- seen{r.Method, r.Header.Get("Idempotency-Key"), r.Header.Get("Content-Type"), string(b)}:
		default:
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":1}`))
	}))
	defer srv.Close()
	for _, raw := range []bool{false, true} {
		cfg := RunConfig{Clients: 2, Warmup: 20 * time.Millisecond, Duration: 100 * time.Millisecond,
			Client: NewClient(2), Raw: raw, Seed: 1}
		var perClient [2]bool
		res := Run(context.Background(), cfg, Scenario{Name: "post", Base: srv.URL,
			PerClient: func(i int) func(*rand.Rand) Request {
				perClient[i] = true
				return func(*rand.Rand) Request {
					return Request{Method: "POST", Path: "/o", Body: []byte(`{"a":1}`), Headers: []Header{{"Idempotency-Key", "k-123456"}}}
				}
			}})
		if res.Requests == 0 || res.Errors != 0 || res.AllOK < res.Requests || !perClient[0] || !perClient[1] {
			t.Fatalf("raw %v: %+v", raw, res)
		}
		if s := <-got; s != (seen{"POST", "k-123456", "application/json", `{"a":1}`}) {
			t.Errorf("raw %v: server saw %+v", raw, s)
		}
	}
}

func TestOrders(t *testing.T) {
	ds, err := NewDataset(Spec{Shops: 3, SPUs: 100, SKUsPerSPU: 4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	o := &Orders{Data: ds, Shop: 2, Buyers: []Buyer{{1, "tok1"}, {2, "tok2"}}}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		sku := ds.OrderSKU(r, 2)
		spu := (sku-1)/4 + 1
		if spu < 1 || spu > 100 || ds.ShopOf(spu) != 2 || !OnShelf(spu) {
			t.Fatalf("SKU %d of SPU %d", sku, spu)
		}
	}
	req, key := o.Request(r, 1)
	if req.Method != "POST" || req.Path != "/api/v1/orders" || key != "bench-order-1" || len(key) < 8 ||
		req.Headers[0] != (Header{"Authorization", "Bearer tok2"}) || req.Headers[1].Value != key ||
		!strings.Contains(string(req.Body), `"quantity":1}],"address":{"name":"张三"`) {
		t.Fatalf("%+v %s", req, req.Body)
	}
	if next := o.Client(2)(r); next.Headers[0].Value != "Bearer tok1" || next.Headers[1].Value != "bench-order-2" || o.Keys() != 2 {
		t.Fatalf("%+v", next)
	}
}
