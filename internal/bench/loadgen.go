package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Request is one request of a scenario: a GET (or Method) of Path (with its
// query) on the scenario's base URL, with an X-Appid header when AppID is
// set, the extra Headers, and Body (sent as application/json) if any.
type Request struct {
	Method  string // "" = GET
	Path    string
	AppID   string
	Headers []Header
	Body    []byte
}

// Header is one request header.
type Header struct{ Name, Value string }

func (r *Request) method() string {
	if r.Method == "" {
		return http.MethodGet
	}
	return r.Method
}

// Scenario is a named request mix against one server.
type Scenario struct {
	Name string
	Base string                     // http://host:port
	Next func(r *rand.Rand) Request // called by each client with its own source
	// PerClient, if set, replaces Next: it is called once per client with
	// the client's number (0 to Clients-1) and returns that client's Next,
	// so that a client can act as one user.
	PerClient func(client int) func(r *rand.Rand) Request
	// Direct, if set, replaces HTTP altogether: it is called once per
	// client and returns the call that client repeats (an anchor measured
	// without the server, such as one database transaction); a nil error
	// counts as a 2xx answer.
	Direct func(client int) func(ctx context.Context, r *rand.Rand) error
}

// RunConfig says how hard and how long to drive a scenario.
type RunConfig struct {
	Clients  int           // concurrent clients, each with at most one request in flight
	Warmup   time.Duration // run but not measured
	Duration time.Duration // measured
	Client   *http.Client  // see NewClient; nil = Raw
	// Raw replaces net/http's client by a minimal one: each client writes
	// its request straight on its own keep-alive connection and reads the
	// answer with http.ReadResponse, with no Transport goroutines or
	// channels, so the load generator takes less of the CPU it shares with
	// the server.
	Raw  bool
	Seed uint64
	// OnMeasure, if set, is called when the measured window opens, and the
	// function it returns when it closes (to bracket a CPU profile).
	OnMeasure func() (done func())
}

// Result is a scenario's measurement. Only requests started inside the
// measured window count.
type Result struct {
	Name     string
	Requests uint64
	Errors   uint64 // transport errors and non-2xx answers
	// AllOK counts the 2xx answers of the whole run, warmup and requests
	// that ended after the window included (to reconcile with what the
	// server wrote).
	AllOK     uint64
	Window    time.Duration
	Latency   Histogram
	Bytes     uint64         // response bodies
	Statuses  map[int]uint64 // non-2xx statuses seen
	SelfCPU   float64        // cores this process used in the window
	OtherCPU  float64        // cores other processes used in the window (-1 = unknown)
	ErrSample []string       // a few error messages
}

// RPS is successful and failed requests per second.
func (r *Result) RPS() float64 {
	if r.Window <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Window.Seconds()
}

// AvgBytes is the mean response body size.
func (r *Result) AvgBytes() float64 {
	if r.Requests == 0 {
		return 0
	}
	return float64(r.Bytes) / float64(r.Requests)
}

// NewClient returns an HTTP/1.1 client that keeps a connection alive per
// concurrent client (real TCP, no compression, no proxy).
func NewClient(clients int) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        4 * clients,
		MaxIdleConnsPerHost: 2 * clients,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{Transport: tr}
}

type worker struct {
	hist      Histogram
	n, errs   uint64
	allOK     uint64
	bytes     uint64
	statuses  map[int]uint64
	errSample []string
}

// Run drives sc with cfg.Clients goroutines in a closed loop (each sends
// its next request as soon as the previous answer is read) for
// Warmup+Duration, and measures the requests started in the last Duration.
func Run(ctx context.Context, cfg RunConfig, sc Scenario) Result {
	const (
		warming = iota
		measuring
		stopped
	)
	var phase atomic.Int32
	// In-flight requests are cancelled a while after the run ends, so that
	// no per-request timer is needed.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := make([]*worker, cfg.Clients)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{statuses: map[int]uint64{}}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
			next := sc.Next
			if sc.PerClient != nil {
				next = sc.PerClient(i)
			}
			send := func(req Request) (int64, int, error) { return do(ctx, cfg.Client, sc.Base, req) }
			if cfg.Raw || cfg.Client == nil {
				rc := &rawConn{addr: strings.TrimPrefix(sc.Base, "http://")}
				defer rc.close()
				send = func(req Request) (int64, int, error) { return rc.do(ctx, req) }
			}
			if sc.Direct != nil {
				call := sc.Direct(i)
				next = func(*rand.Rand) Request { return Request{Path: sc.Name} }
				send = func(Request) (int64, int, error) {
					if err := call(ctx, r); err != nil {
						return 0, 0, err
					}
					return 0, http.StatusOK, nil
				}
			}
			for ctx.Err() == nil {
				p := phase.Load()
				if p == stopped {
					return
				}
				req := next(r)
				start := time.Now()
				n, status, err := send(req)
				took := time.Since(start)
				if err == nil && status >= 200 && status <= 299 {
					w.allOK++
				}
				if err != nil && ctx.Err() == nil {
					time.Sleep(time.Millisecond) // a dead server must not spin us
				}
				if p != measuring {
					continue
				}
				w.n++
				w.bytes += uint64(n)
				w.hist.Record(took)
				if err != nil || status < 200 || status > 299 {
					w.errs++
					if status != 0 {
						w.statuses[status]++
					}
					if len(w.errSample) < 3 {
						if err == nil {
							err = fmt.Errorf("%s %s: status %d", req.method(), req.Path, status)
						}
						w.errSample = append(w.errSample, err.Error())
					}
				}
			}
		}()
	}
	sleep(ctx, cfg.Warmup)
	var done func()
	if cfg.OnMeasure != nil {
		done = cfg.OnMeasure()
	}
	phase.Store(measuring)
	cpu0 := TakeCPUSnapshot()
	begin := time.Now()
	sleep(ctx, cfg.Duration)
	phase.Store(stopped)
	window := time.Since(begin)
	cpu1 := TakeCPUSnapshot()
	if done != nil {
		done()
	}
	grace := time.AfterFunc(10*time.Second, cancel)
	wg.Wait()
	grace.Stop()
	if cfg.Client != nil {
		cfg.Client.CloseIdleConnections()
	}

	res := Result{Name: sc.Name, Window: window, Statuses: map[int]uint64{}, OtherCPU: cpu0.OtherCPU(cpu1)}
	if wall := cpu1.At.Sub(cpu0.At); wall > 0 {
		res.SelfCPU = (cpu1.Self - cpu0.Self).Seconds() / wall.Seconds()
	}
	for _, w := range workers {
		res.Requests += w.n
		res.Errors += w.errs
		res.AllOK += w.allOK
		res.Bytes += w.bytes
		res.Latency.Merge(&w.hist)
		for s, c := range w.statuses {
			res.Statuses[s] += c
		}
		if len(res.ErrSample) < 5 {
			res.ErrSample = append(res.ErrSample, w.errSample...)
		}
	}
	sort.Strings(res.ErrSample)
	if len(res.ErrSample) > 5 {
		res.ErrSample = res.ErrSample[:5]
	}
	return res
}

// do sends one request and reads the whole answer.
func do(ctx context.Context, c *http.Client, base string, r Request) (int64, int, error) {
	req, err := NewHTTPRequest(ctx, base, r)
	if err != nil {
		return 0, 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return n, resp.StatusCode, err
}

// NewHTTPRequest builds the net/http request of r on base.
func NewHTTPRequest(ctx context.Context, base string, r Request) (*http.Request, error) {
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method(), base+r.Path, body)
	if err != nil {
		return nil, err
	}
	if r.AppID != "" {
		req.Header.Set("X-Appid", r.AppID)
	}
	if r.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range r.Headers {
		req.Header.Set(h.Name, h.Value)
	}
	return req, nil
}

// rawConn is one keep-alive HTTP/1.1 connection driven by hand.
type rawConn struct {
	addr string
	c    net.Conn
	br   *bufio.Reader
	buf  []byte
	// unwatch stops closing c when the run's context ends.
	unwatch func() bool
}

func (rc *rawConn) do(ctx context.Context, r Request) (int64, int, error) {
	if rc.c == nil {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", rc.addr)
		if err != nil {
			return 0, 0, err
		}
		rc.c = c
		if rc.br == nil {
			rc.br = bufio.NewReaderSize(c, 16<<10)
		} else {
			rc.br.Reset(c)
		}
		rc.unwatch = context.AfterFunc(ctx, func() { c.Close() })
	}
	rc.buf = append(rc.buf[:0], r.method()...)
	rc.buf = append(rc.buf, ' ')
	rc.buf = append(rc.buf, r.Path...)
	rc.buf = append(rc.buf, " HTTP/1.1\r\nHost: "...)
	rc.buf = append(rc.buf, rc.addr...)
	rc.buf = append(rc.buf, "\r\nUser-Agent: kaidian-bench\r\n"...)
	if r.AppID != "" {
		rc.buf = append(rc.buf, "X-Appid: "...)
		rc.buf = append(rc.buf, r.AppID...)
		rc.buf = append(rc.buf, "\r\n"...)
	}
	for _, h := range r.Headers {
		rc.buf = append(rc.buf, h.Name...)
		rc.buf = append(rc.buf, ": "...)
		rc.buf = append(rc.buf, h.Value...)
		rc.buf = append(rc.buf, "\r\n"...)
	}
	if r.Body != nil {
		rc.buf = append(rc.buf, "Content-Type: application/json\r\nContent-Length: "...)
		rc.buf = strconv.AppendInt(rc.buf, int64(len(r.Body)), 10)
		rc.buf = append(rc.buf, "\r\n"...)
	}
	rc.buf = append(rc.buf, "\r\n"...)
	rc.buf = append(rc.buf, r.Body...)
	if _, err := rc.c.Write(rc.buf); err != nil {
		rc.close()
		return 0, 0, err
	}
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil {
		rc.close()
		return 0, 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.Close {
		rc.close()
	}
	return n, resp.StatusCode, err
}

func (rc *rawConn) close() {
	if rc.c != nil {
		rc.unwatch()
		rc.c.Close()
		rc.c = nil
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// BareBody is what the bare ceiling server answers: about 200 bytes of
// fixed JSON, the size of a small API answer.
var BareBody = []byte(`{"id":1024,"category_id":17,"title":"秋冬新款韩版宽松加绒卫衣 包邮","subtitle":"七天无理由 顺丰包邮",` +
	`"image":"https://img.example.com/bench/1024/1.jpg","price_min":12900,"price_max":15900,"on_shelf":true}` + "\n")

// BareHandler is the ceiling: a plain net/http handler that writes BareBody.
func BareHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(BareBody)
	})
}
