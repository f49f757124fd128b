package bench

import (
	"context"
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
