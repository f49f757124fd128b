package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kaidian/kaidian/internal/bench"
	"github.com/kaidian/kaidian/internal/config"
	"github.com/kaidian/kaidian/internal/demo"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/session"
	"github.com/kaidian/kaidian/internal/promotion"
	"github.com/kaidian/kaidian/internal/server"
)

const benchFlashUsage = `kaidian bench-flash: the flash-sale benchmark

Distinct buyers all try to claim one unit of a flash sale at the same
moment (a per-user limit of 1). Three runs (four with --serve-processes),
each on its own sale of the demo shop's first SKU:

  engine    the claim engine in-process (no HTTP): --buyers for --units
  baseline  the same engine with one claim per transaction (the usual
            conditional UPDATE on a hot row): --baseline-buyers for
            --baseline-units
  http      end to end: POST /api/v1/flash-sales/{id}/claim with a session
            and a claim token per buyer, --clients keep-alive connections,
            against a bare net/http server answering the same number of
            requests in the same run
  processes (with --serve-processes N, PostgreSQL only) the same burst
            against N ` + "`kaidian serve`" + ` processes of this binary on the
            database, requests spread over them in turn (a load balancer
            without sticky sessions), anchored on GET /healthz of the same
            processes over the same connections

After each run the database is checked: exactly the units sold, one claim
per buyer at most, none left. SQLite commits wait for the disk
(--sqlite-sync full) unless told otherwise.

Flags:
`

type flashFlags struct {
	db                         string
	buyers, units              int
	baselineBuyers, baseUnits  int
	httpBuyers, httpUnits      int
	clients                    int
	sqliteSync                 string
	keep                       bool
	profile                    string
	skipEngine, skipHTTP, skip bool
	processes                  int
	json                       bool
}

// flashReport is what --json prints: each run's rate, p99 and check.
type flashReport struct {
	Engine       string    `json:"engine"`
	EngineRun    *flashRun `json:"engine_run,omitempty"`
	Baseline     *flashRun `json:"baseline,omitempty"`
	HTTP         *flashRun `json:"http,omitempty"`
	Bare         *flashRun `json:"bare,omitempty"`
	Processes    int       `json:"processes,omitempty"`
	ProcessesRun *flashRun `json:"processes_run,omitempty"`
	Healthz      *flashRun `json:"healthz,omitempty"`
}

// flashRun is one run in the report: confirmed claims per second for the
// engine runs, answered requests per second for the HTTP ones.
type flashRun struct {
	PerSecond float64 `json:"per_second"`
	P99ms     float64 `json:"p99_ms"`
	CheckOK   bool    `json:"check_ok"`
}

func runBenchFlash(ctx context.Context, args []string, stdout io.Writer) error {
	var f flashFlags
	fs := flag.NewFlagSet("bench-flash", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() { fmt.Fprint(stdout, benchFlashUsage); fs.PrintDefaults() }
	fs.StringVar(&f.db, "db", "", "postgres://… URL (a fresh schema is made in it) or a SQLite file; default: a fresh SQLite file")
	fs.IntVar(&f.buyers, "buyers", 100_000, "distinct buyers in the engine run")
	fs.IntVar(&f.units, "units", 50_000, "units on sale in the engine run")
	fs.IntVar(&f.baselineBuyers, "baseline-buyers", 6_000, "buyers in the one-claim-per-transaction run")
	fs.IntVar(&f.baseUnits, "baseline-units", 3_000, "units in the one-claim-per-transaction run")
	fs.IntVar(&f.httpBuyers, "http-buyers", 100_000, "distinct buyers in the HTTP run")
	fs.IntVar(&f.httpUnits, "http-units", 50_000, "units in the HTTP run")
	fs.IntVar(&f.clients, "clients", 256, "HTTP connections in the HTTP run")
	fs.StringVar(&f.sqliteSync, "sqlite-sync", "full", "SQLite synchronous setting: full (commits wait for the disk) or normal")
	fs.BoolVar(&f.keep, "keep", false, "keep the database")
	fs.StringVar(&f.profile, "profile", "", "write a CPU profile of the engine run to this file (and of the HTTP run to FILE.http; with --serve-processes, 5 s of each serve process during its burst to FILE.proc<i>)")
	fs.BoolVar(&f.skipHTTP, "no-http", false, "skip the HTTP run")
	fs.BoolVar(&f.skip, "no-baseline", false, "skip the baseline run")
	fs.BoolVar(&f.skipEngine, "no-engine", false, "skip the engine run")
	fs.IntVar(&f.processes, "serve-processes", 0, "PostgreSQL only: also run the HTTP burst against this many `kaidian serve` processes on the database (requests spread round-robin), anchored on GET /healthz of the same processes")
	fs.BoolVar(&f.json, "json", false, "print a JSON report on standard output (the text goes to standard error)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	out := stdout
	if f.json {
		out = os.Stderr
	}
	logf := stderrLog
	dataDir, target, cleanup, err := scratchDatabase(ctx, "kaidian-bench-flash-", f.db, f.keep)
	if err != nil {
		return err
	}
	defer cleanup()
	cfg, err := config.Load("bench-flash", []string{"--data", dataDir, "--db", target.dsn, "--sqlite-sync", f.sqliteSync,
		"--log-level", "error", "--addr", "127.0.0.1:0",
		// Every buyer of the run comes from 127.0.0.1.
		"--flash-per-address", "1000000000"}, func(string) string { return "" })
	if err != nil {
		return err
	}
	srv, err := server.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{})
	if err != nil {
		return err
	}
	defer srv.Close()
	w, err := newFlashWorld(ctx, srv, max(f.buyers, f.baselineBuyers, f.httpBuyers), f.units+f.baseUnits+2*f.httpUnits)
	if err != nil {
		return err
	}
	sync := f.sqliteSync
	if srv.DB.Engine == db.Postgres {
		sync = "synchronous_commit " + pgSetting(ctx, srv.DB, "synchronous_commit")
	}
	rep := flashReport{Engine: string(srv.DB.Engine)}
	fmt.Fprintf(out, "flash-sale benchmark on %s (%s; %s), %d cores, GOMAXPROCS %d, %s\n",
		srv.DB.Engine, target.Where, sync, runtime.NumCPU(), runtime.GOMAXPROCS(0), time.Now().UTC().Format("2006-01-02"))

	if !f.skipEngine {
		if err := w.engineRuns(ctx, out, f, logf, &rep); err != nil {
			return err
		}
	}
	if !f.skipHTTP {
		var profile func() func()
		if f.profile != "" {
			profile = cpuProfiler(f.profile+".http", logf)
		}
		if err := w.httpRun(ctx, out, f.httpBuyers, f.httpUnits, f.clients, profile, &rep); err != nil {
			return err
		}
	}
	if f.processes > 0 {
		if srv.DB.Engine != db.Postgres {
			return errors.New("bench-flash: --serve-processes needs a postgres:// --db (several processes on one SQLite file are not a supported setup)")
		}
		if err := w.processesRun(ctx, out, dataDir, target.dsn, f, &rep); err != nil {
			return err
		}
	}
	if f.json {
		return writeJSON(stdout, rep)
	}
	return nil
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// engineRuns runs the engine and (unless --no-baseline) the baseline.
func (w *flashWorld) engineRuns(ctx context.Context, stdout io.Writer, f flashFlags, logf func(string, ...any), rep *flashReport) error {
	var stopProfile func()
	if f.profile != "" {
		stopProfile = cpuProfiler(f.profile, logf)()
	}
	engine, err := w.engineRun(ctx, "engine", f.buyers, f.units, 0)
	if stopProfile != nil {
		stopProfile()
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, engine)
	rep.EngineRun = engine.report(engine.confirmedPerSec())
	if !f.skip {
		base, err := w.engineRun(ctx, "baseline (1 claim per transaction)", f.baselineBuyers, f.baseUnits, 1)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, base)
		rep.Baseline = base.report(base.confirmedPerSec())
		fmt.Fprintf(stdout, "engine / baseline: %.1f×\n", engine.confirmedPerSec()/base.confirmedPerSec())
	}
	return nil
}

func pgSetting(ctx context.Context, d *db.DB, name string) string {
	var v string
	if err := d.QueryRow(ctx, `SELECT current_setting('`+name+`')`).Scan(&v); err != nil {
		return "?"
	}
	return v
}

// flashWorld is the demo shop with enough stock and buyers.
type flashWorld struct {
	srv     *server.Server
	shopID  int64
	skuID   int64
	members []int64
}

func newFlashWorld(ctx context.Context, srv *server.Server, buyers, units int) (*flashWorld, error) {
	if _, err := demo.Seed(ctx, srv); err != nil {
		return nil, err
	}
	w := &flashWorld{srv: srv}
	err := srv.DB.QueryRow(ctx, `SELECT k.shop_id, k.id FROM skus k JOIN spus p ON p.id = k.spu_id
		WHERE p.on_shelf = TRUE AND k.deleted_at IS NULL ORDER BY k.id LIMIT 1`).Scan(&w.shopID, &w.skuID)
	if err != nil {
		return nil, fmt.Errorf("bench-flash: no SKU: %w", err)
	}
	if _, err := srv.DB.Exec(ctx, `UPDATE skus SET stock = ? WHERE id = ?`, units, w.skuID); err != nil {
		return nil, err
	}
	tag := strconv.FormatInt(time.Now().UnixNano(), 36)
	now := time.Now().UnixMilli()
	// One statement on both engines: a recursive counter feeds the insert.
	_, err = srv.DB.Exec(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO members (shop_id, openid, unionid, created_at, updated_at)
		SELECT ?, ? || CAST(i AS TEXT), '', ?, ? FROM n`, buyers, w.shopID, "flash-"+tag+"-", now, now)
	if err != nil {
		return nil, fmt.Errorf("bench-flash: buyers: %w", err)
	}
	if srv.DB.Engine == db.SQLite {
		// Start from a steady state: the setup's writes are checkpointed
		// into the database file, not left for the first claims' commit.
		if _, err := srv.DB.Exec(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return nil, err
		}
	}
	rows, err := srv.DB.Query(ctx, `SELECT id FROM members WHERE shop_id = ? AND openid LIKE ? ORDER BY id`, w.shopID, "flash-"+tag+"-%")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		w.members = append(w.members, id)
	}
	return w, rows.Err()
}

func (w *flashWorld) newSale(ctx context.Context, title string, units int) (int64, error) {
	now := time.Now()
	s, err := w.srv.Promos.CreateSale(ctx, w.shopID, promotion.NewSale{SKUID: w.skuID, Title: title, Price: 100,
		Quantity: int64(units), PerUserLimit: 1, PayMinutes: 15, StartsAt: now, EndsAt: now.Add(time.Hour)})
	return s.ID, err
}

type flashResult struct {
	name              string
	buyers, units     int
	confirmed         int64
	outcomes          map[string]int64
	wall              time.Duration
	lat               bench.Histogram
	check             string
	requestsPerSecond float64
	batches, batched  int64 // engine transactions and the claims they carried
}

func (r flashResult) confirmedPerSec() float64 { return float64(r.confirmed) / r.wall.Seconds() }

// report is the run as the JSON report gives it (a run without a database
// check, such as bare net/http, counts as checked).
func (r flashResult) report(perSecond float64) *flashRun {
	return &flashRun{PerSecond: perSecond, P99ms: float64(r.lat.Quantile(0.99)) / float64(time.Millisecond),
		CheckOK: r.check == "" || strings.HasPrefix(r.check, "OK")}
}

func (r flashResult) String() string {
	return fmt.Sprintf("%s: %d buyers for %d units: %d confirmed in %s = %.0f confirmed/s; latency of every answer p50 %s p99 %s max %s; outcomes %v\n  check: %s",
		r.name, r.buyers, r.units, r.confirmed, r.wall.Round(time.Millisecond), r.confirmedPerSec(),
		r.lat.Quantile(0.5).Round(time.Microsecond), r.lat.Quantile(0.99).Round(time.Microsecond), r.lat.Max().Round(time.Microsecond),
		r.outcomes, r.check) + r.batchLine()
}

func (r flashResult) batchLine() string {
	if r.batches == 0 {
		return ""
	}
	return fmt.Sprintf("\n  %d transactions carried %d claims (%.0f per transaction); the rest were turned away in memory",
		r.batches, r.batched, float64(r.batched)/float64(r.batches))
}

// engineRun fires one claim per buyer at once straight at a claim engine
// (maxBatch 1 = one claim per transaction) and checks the database after.
func (w *flashWorld) engineRun(ctx context.Context, name string, buyers, units, maxBatch int) (flashResult, error) {
	sale, err := w.newSale(ctx, name, units)
	if err != nil {
		return flashResult{}, err
	}
	c := promotion.NewClaimer(w.srv.DB, nil)
	defer c.Close()
	if maxBatch > 0 {
		c.MaxBatch = maxBatch
	}
	res := flashResult{name: name, buyers: buyers, units: units, outcomes: map[string]int64{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, m := range w.members[:buyers] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			t0 := time.Now()
			_, err := c.Claim(ctx, w.shopID, sale, m, 1, "")
			took := time.Since(t0)
			code := "confirmed"
			if err != nil {
				code = errs.As(err).Code
			}
			mu.Lock()
			res.lat.Record(took)
			res.outcomes[code]++
			mu.Unlock()
		}()
	}
	runtime.GC()
	t0 := time.Now()
	close(start)
	wg.Wait()
	res.wall = time.Since(t0)
	res.batches, res.batched = c.Stats()
	res.confirmed = res.outcomes["confirmed"]
	res.check, err = checkSale(ctx, w.srv.DB, sale, units, res.confirmed)
	return res, err
}

// checkSale verifies a sale after a run: claims hold exactly what was
// confirmed, which is all the units, one claim per buyer, none left.
func checkSale(ctx context.Context, d *db.DB, sale int64, units int, confirmed int64) (string, error) {
	var claims, qty, buyers, overLimit, remaining int64
	err := d.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(quantity), 0), COUNT(DISTINCT member_id),
		(SELECT COUNT(*) FROM (SELECT member_id FROM flash_claims WHERE sale_id = ? GROUP BY member_id HAVING SUM(quantity) > 1) x),
		(SELECT remaining FROM flash_sales WHERE id = ?)
		FROM flash_claims WHERE sale_id = ?`, sale, sale, sale).Scan(&claims, &qty, &buyers, &overLimit, &remaining)
	if err != nil {
		return "", err
	}
	ok := qty == int64(units) && confirmed == qty && buyers == claims && overLimit == 0 && remaining == 0
	verdict := "OK"
	if !ok {
		verdict = "FAILED"
	}
	return fmt.Sprintf("%s: %d claims of %d units for %d buyers (%d confirmed answers), %d buyers over the limit, %d units left",
		verdict, claims, qty, buyers, confirmed, overLimit, remaining), nil
}

// httpRun serves kaidian and a bare net/http server on loopback and sends
// each the same burst: one request per buyer over --clients connections.
func (w *flashWorld) httpRun(ctx context.Context, out io.Writer, buyers, units, clients int, profile func() func(), rep *flashReport) error {
	sale, err := w.newSale(ctx, "http", units)
	if err != nil {
		return err
	}
	claim, err := w.claimRequests(ctx, sale, buyers)
	if err != nil {
		return err
	}
	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	bareURL, waitBare, err := serveOnLoopback(serveCtx, func(ln net.Listener) error { return serveBare(serveCtx, ln) })
	if err != nil {
		return err
	}
	defer waitBare()
	kaidianURL, waitKaidian, err := serveOnLoopback(serveCtx, func(ln net.Listener) error { return w.srv.Serve(serveCtx, ln) })
	if err != nil {
		return err
	}
	defer waitKaidian()
	client := bench.NewClient(clients)
	bare := burst(ctx, client, clients, buyers, func(int) bench.Request { return bench.Request{Path: "/"} }, bareURL)
	var stopProfile func()
	if profile != nil {
		stopProfile = profile()
	}
	res := burst(ctx, client, clients, buyers, claim, kaidianURL)
	if stopProfile != nil {
		stopProfile()
	}
	res.name, res.units = "http", units
	res.confirmed = res.outcomes["201"]
	if res.check, err = checkSale(ctx, w.srv.DB, sale, units, res.confirmed); err != nil {
		return err
	}
	fmt.Fprintf(out, "bare net/http: %d requests in %s = %.0f requests/s, p50 %s p99 %s\n", bare.buyers, bare.wall.Round(time.Millisecond),
		bare.requestsPerSecond, bare.lat.Quantile(0.5).Round(time.Microsecond), bare.lat.Quantile(0.99).Round(time.Microsecond))
	fmt.Fprintln(out, res)
	fmt.Fprintf(out, "http claims answered: %.0f requests/s = %.1f%% of bare net/http\n", res.requestsPerSecond, 100*res.requestsPerSecond/bare.requestsPerSecond)
	rep.HTTP, rep.Bare = res.report(res.requestsPerSecond), bare.report(bare.requestsPerSecond)
	stop()
	return nil
}

// claimRequests gives the first n buyers a session and a claim token of
// sale and returns request i: buyer i's claim of one unit.
func (w *flashWorld) claimRequests(ctx context.Context, sale int64, n int) (func(i int) bench.Request, error) {
	type buyer struct{ session, token string }
	list := make([]buyer, n)
	for i, m := range w.members[:n] {
		tok, _, err := w.srv.Sessions.Create(ctx, session.Member, m, w.shopID, time.Hour)
		if err != nil {
			return nil, err
		}
		claimTok, _, err := w.srv.Promos.Claimer.Token(ctx, w.shopID, sale, m)
		if err != nil {
			return nil, err
		}
		list[i] = buyer{session: "Bearer " + tok, token: claimTok}
	}
	var appid string
	if err := w.srv.DB.QueryRow(ctx, `SELECT appid FROM shops WHERE id = ?`, w.shopID).Scan(&appid); err != nil {
		return nil, err
	}
	path := "/api/v1/flash-sales/" + strconv.FormatInt(sale, 10) + "/claim"
	return func(i int) bench.Request {
		return bench.Request{Method: "POST", Path: path, AppID: appid, Body: []byte(`{"quantity":1,"token":"` + list[i].token + `"}`),
			Headers: []bench.Header{{Name: "Authorization", Value: list[i].session}}}
	}, nil
}

// burst sends n requests (request i from next(i), to bases[i % len]) over
// clients workers as fast as they go, and records each answer's latency
// and status.
func burst(ctx context.Context, c *http.Client, clients, n int, next func(i int) bench.Request, bases ...string) flashResult {
	res := flashResult{buyers: n, outcomes: map[string]int64{}}
	var mu sync.Mutex
	var cursor atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat bench.Histogram
			counts := map[string]int64{}
			for {
				i := int(cursor.Add(1) - 1)
				if i >= n {
					break
				}
				start := time.Now()
				status, err := send(ctx, c, bases[i%len(bases)], next(i))
				lat.Record(time.Since(start))
				key := strconv.Itoa(status)
				if err != nil {
					key = "error"
				}
				counts[key]++
			}
			mu.Lock()
			res.lat.Merge(&lat)
			for k, v := range counts {
				res.outcomes[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.wall = time.Since(t0)
	res.requestsPerSecond = float64(n) / res.wall.Seconds()
	return res
}

func send(ctx context.Context, c *http.Client, base string, r bench.Request) (int, error) {
	req, err := bench.NewHTTPRequest(ctx, base, r)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil && !errors.Is(err, io.EOF) {
		return resp.StatusCode, err
	}
	return resp.StatusCode, nil
}

// stderrLog prints a timestamped progress line.
func stderrLog(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
}

// scratchDatabase makes a data folder and a fresh database for a
// benchmark (see benchDatabase); cleanup removes both unless keep.
func scratchDatabase(ctx context.Context, prefix, dsn string, keep bool) (string, benchTarget, func(), error) {
	dataDir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", benchTarget{}, nil, err
	}
	target, cleanup, err := benchDatabase(ctx, benchFlags{db: dsn, keep: keep}, dataDir)
	if err != nil {
		return "", benchTarget{}, nil, err
	}
	return dataDir, target, func() {
		if err := cleanup(); err != nil {
			stderrLog("cleanup: %v", err)
		}
	}, nil
}
