package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/bench"
	"github.com/kaidian/kaidian/internal/config"
	"github.com/kaidian/kaidian/internal/freight"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/server"
)

const benchUsage = `Usage: kaidian bench [flags]

Loads a generated Chinese catalog straight into a database, starts the
kaidian server on it (127.0.0.1, random port) and drives it over loopback
TCP with keep-alive clients in this process. A bare net/http handler that
writes fixed JSON is measured with the same clients: it is the ceiling of
the machine, and the catalog figures are reported as shares of it.

Scenarios:
  bare       GET of ~200 bytes of fixed JSON from a plain net/http server
  detail     GET /api/v1/products/{id}            (random product on the shelf)
  category   GET /api/v1/products?category_id=…&limit=20  (random leaf or top)
  search     GET /api/v1/products?q=…&limit=20    (title words, 1 in 4 two words)
  orders     POST /api/v1/orders as 100 buyers of shop 1 (one random SKU, a new
             Idempotency-Key each; --clients defaults to 100 for it), then a
             database check: one order per 201, stock + locked unchanged,
             no oversell (not default)
  orders-1tx the anchor of orders: the same rows (order, line, stock, ledger,
             event, job) written straight into the database, one transaction
             per order, no HTTP; orders is reported as a share of it, and the
             database check counts its orders too (not default)
  demo-rss   RSS of a "kaidian demo" subprocess after it idles 5 s (not default)

Run "kaidian bench all" for every benchmark with its anchor in one table.

Flags:
`

// benchTargets are the goals of the issue, on the 2-core reference machine.
var benchTargets = map[string]bench.Target{
	"detail":   {MinRatio: 0.5, MaxP99: 10 * time.Millisecond},
	"category": {MinRatio: 0.5, MaxP99: 10 * time.Millisecond},
	"search":   {MinRPS: 2000, MaxP99: 50 * time.Millisecond},
}

// demoRSSLimit is the goal for an idle `kaidian demo`.
const demoRSSLimit = 60 << 20

var allScenarios = []string{"bare", "detail", "category", "search", "orders", "orders-1tx", "orders-backup", "demo-rss"}

// usesOrders reports whether a scenario places orders (as the orders
// scenario's buyers, with its clients and its database check).
func usesOrders(name string) bool {
	return name == "orders" || name == "orders-1tx" || name == "orders-backup"
}

type benchFlags struct {
	db         string
	spus       int
	skusPerSPU int
	shops      int
	clients    int
	clientsSet bool // --clients given: the orders scenario uses it too
	duration   time.Duration
	warmup     time.Duration
	scenarios  []string
	json       bool
	keep       bool
	seed       uint64
	profileDir string
	client     string
	rounds     int
	detailMB   int
	members    int
	freight    bool
	backupPace float64
}

func parseBenchFlags(args []string, out io.Writer) (benchFlags, error) {
	var f benchFlags
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, benchUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.db, "db", "", "database: a postgres:// URL (a fresh schema bench_<random> is created in it, unless the URL sets search_path) or a SQLite file; default a new SQLite file in a temporary folder")
	fs.IntVar(&f.spus, "spus", 200_000, "products (SPUs) in all, dealt round-robin to the shops")
	fs.IntVar(&f.skusPerSPU, "skus-per-spu", 5, fmt.Sprintf("SKUs per product, 1 to %d", bench.MaxSKUsPerSPU))
	fs.IntVar(&f.shops, "shops", 1, "shops (mini programs)")
	fs.IntVar(&f.clients, "clients", 64, "concurrent keep-alive clients")
	fs.DurationVar(&f.duration, "duration", 10*time.Second, "measured time per scenario")
	fs.DurationVar(&f.warmup, "warmup", 2*time.Second, "unmeasured time before each scenario")
	scen := fs.String("scenarios", "bare,detail,category,search", "comma list of "+strings.Join(allScenarios, ", "))
	fs.StringVar(&f.client, "client", "net/http", "load generator client: net/http (http.Transport, keep-alive) or raw (hand-written HTTP/1.1 on one keep-alive connection per client: lighter, so more of the CPU is left to the servers)")
	fs.IntVar(&f.rounds, "rounds", 1, "run the scenario list this many times, interleaved, and report the median requests/s of each scenario (latency percentiles over all rounds); steadier on a noisy machine")
	fs.IntVar(&f.detailMB, "detail-cache-mb", 64, "the server's product-detail cache budget in MiB (serve's --detail-cache-mb; 1,000,000 SKUs in 200,000 products need about 260 to hold every product)")
	fs.IntVar(&f.members, "members", 0, "also add this many buyers (members), for memory measurements of a grown shop")
	fs.BoolVar(&f.freight, "freight", false, "put every product on a freight template (by piece, 8 province rules, free shipping above ¥999, one region not delivered to), so orders price freight")
	fs.Float64Var(&f.backupPace, "backup-pace", 0.5, "orders-backup: the backups' pace, as serve's --backup-pace (1: as fast as they can)")
	fs.BoolVar(&f.json, "json", false, "print the report as JSON")
	fs.BoolVar(&f.keep, "keep", false, "keep the database (the SQLite folder or the PostgreSQL schema) for another run")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the generated catalog and of the request mix")
	fs.StringVar(&f.profileDir, "profile", "", "write a CPU profile of each measured window (cpu-<scenario>.pprof), the allocation profile at both ends of it (allocs-<scenario>-start.pprof, allocs-<scenario>.pprof: compare with go tool pprof -diff_base) and a heap profile after start (heap.pprof) to this folder")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	fs.Visit(func(fl *flag.Flag) { f.clientsSet = f.clientsSet || fl.Name == "clients" })
	if fs.NArg() > 0 {
		return f, fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	}
	for _, s := range strings.Split(*scen, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !slices.Contains(allScenarios, s) {
			return f, fmt.Errorf("bench: unknown scenario %q (have %s)", s, strings.Join(allScenarios, ", "))
		}
		if !slices.Contains(f.scenarios, s) {
			f.scenarios = append(f.scenarios, s)
		}
	}
	switch {
	case len(f.scenarios) == 0:
		return f, fmt.Errorf("bench: no scenario")
	case f.rounds < 1:
		return f, fmt.Errorf("bench: rounds must be at least 1")
	case f.clients < 1:
		return f, fmt.Errorf("bench: clients must be at least 1")
	case f.client != "net/http" && f.client != "raw":
		return f, fmt.Errorf("bench: --client must be net/http or raw")
	case f.duration <= 0 || f.warmup < 0:
		return f, fmt.Errorf("bench: duration must be positive and warmup not negative")
	}
	return f, nil
}

func runBench(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "all" {
		return runBenchAll(ctx, args[1:], stdout)
	}
	f, err := parseBenchFlags(args, stdout)
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...) }
	rep := newBenchReport(f)

	if slices.Contains(f.scenarios, "demo-rss") {
		logf("demo-rss: starting kaidian demo in a subprocess, idling %s", demoIdle)
		d, err := measureDemoRSS(ctx, logf)
		if err != nil {
			return fmt.Errorf("demo-rss: %w", err)
		}
		rep.Demo = d
	}
	if slices.ContainsFunc(f.scenarios, func(s string) bool { return s != "demo-rss" }) {
		if err := benchCatalog(ctx, f, rep, logf); err != nil {
			return err
		}
	}
	if f.json {
		return rep.writeJSON(stdout)
	}
	rep.writeText(stdout)
	return nil
}

// benchCatalog loads the catalog, serves it and runs the HTTP scenarios.
func benchCatalog(ctx context.Context, f benchFlags, rep *benchReport, logf func(string, ...any)) (err error) {
	ds, err := bench.NewDataset(bench.Spec{Shops: f.shops, SPUs: f.spus, SKUsPerSPU: f.skusPerSPU, Seed: f.seed})
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	dataDir, err := os.MkdirTemp("", "kaidian-bench-")
	if err != nil {
		return err
	}
	target, cleanup, err := benchDatabase(ctx, f, dataDir)
	if err != nil {
		os.RemoveAll(dataDir)
		return err
	}
	defer func() {
		if cerr := cleanup(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	rep.Database = target

	if err := loadCatalog(ctx, target.dsn, ds, rep, logf); err != nil {
		return err
	}
	if err := useFreight(ctx, target.dsn, f, logf); err != nil {
		return err
	}
	if err := loadMembers(ctx, target.dsn, f, logf); err != nil {
		return err
	}
	if rep.Memory.AfterLoad, err = bench.SelfMemory(); err != nil {
		logf("memory: %v", err)
	}

	// The server, as `kaidian serve` builds it, at log level warn.
	cfg, err := config.Load("serve", []string{"--db", target.dsn, "--data", filepath.Join(dataDir, "server"),
		"--log-level", "warn", "--addr", "127.0.0.1:0", "--detail-cache-mb", strconv.Itoa(f.detailMB),
		"--require-totp=false"}, func(string) string { return "" })
	if err != nil {
		return err
	}
	logf("server.New: migrate, load the read model and search index")
	if err := bench.ResetPeakRSS(); err != nil {
		logf("memory: %v", err)
	}
	start := time.Now()
	srv, err := server.New(ctx, cfg, newLogger(cfg.LogLevel), server.Options{})
	if err != nil {
		return fmt.Errorf("server.New: %w", err)
	}
	defer srv.Close()
	rep.ServerStart = time.Since(start)
	if rep.Memory.AfterStart, err = bench.SelfMemory(); err != nil {
		logf("memory: %v", err)
	}
	rep.Memory.ReadModelHeap = int64(rep.Memory.AfterStart.HeapAlloc) - int64(rep.Memory.AfterLoad.HeapAlloc)
	logf("server ready in %s; heap in use %s, RSS %s", rep.ServerStart.Round(time.Millisecond),
		mb(rep.Memory.AfterStart.HeapInuse), mb(rep.Memory.AfterStart.RSS))
	if f.profileDir != "" {
		if err := writeHeapProfile(f.profileDir); err != nil {
			return err
		}
	}

	serveCtx, stopServing := context.WithCancel(context.WithoutCancel(ctx))
	kaidianURL, waitKaidian, err := serveOnLoopback(serveCtx, func(ln net.Listener) error { return srv.Serve(serveCtx, ln) })
	if err != nil {
		stopServing()
		return err
	}
	bareURL, waitBare, err := serveOnLoopback(serveCtx, func(ln net.Listener) error { return serveBare(serveCtx, ln) })
	if err != nil {
		stopServing()
		waitKaidian()
		return err
	}
	defer func() {
		stopServing()
		waitKaidian()
		waitBare()
	}()

	client := bench.NewClient(f.clients)
	var orders *bench.Orders
	var ordersBefore *ordersState
	ordersClients := f.clients
	if !f.clientsSet {
		ordersClients = ordersBuyers
	}
	ordersClient := bench.NewClient(ordersClients)
	if slices.ContainsFunc(f.scenarios, usesOrders) {
		if orders, ordersBefore, err = setupOrders(ctx, srv, ds); err != nil {
			return err
		}
		logf("orders: %d buyers of shop %d with a session each, %d units in each of its %d SKUs",
			len(orders.Buyers), orders.Shop, bench.OrderStock, ordersBefore.skus)
	}
	scenarios := map[string]bench.Scenario{
		"bare":     {Name: "bare", Base: bareURL, Next: func(*mrand.Rand) bench.Request { return bench.Request{Path: "/"} }},
		"detail":   {Name: "detail", Base: kaidianURL, Next: ds.DetailRequest},
		"category": {Name: "category", Base: kaidianURL, Next: ds.CategoryRequest},
		"search":   {Name: "search", Base: kaidianURL, Next: ds.SearchRequest},
	}
	var backups *backupLoad
	if orders != nil {
		scenarios["orders"] = bench.Scenario{Name: "orders", Base: kaidianURL, PerClient: orders.Client}
		scenarios["orders-backup"] = bench.Scenario{Name: "orders-backup", Base: kaidianURL, PerClient: orders.Client}
		backups = newBackupLoad(srv.DB, dataDir, f.backupPace)
		scenarios["orders-1tx"] = bench.Scenario{Name: "orders-1tx", Direct: newOrders1tx(srv.DB, orders).Client}
	}
	results, samples := map[string][]bench.Result{}, map[string]string{}
	for round := 1; round <= f.rounds; round++ {
		for _, name := range f.scenarios {
			sc, ok := scenarios[name]
			if !ok {
				continue
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			clients, hc := f.clients, client
			if usesOrders(name) {
				clients, hc = ordersClients, ordersClient
			}
			if round == 1 {
				var sample string
				var err error
				switch name {
				case "orders-1tx":
					sample = "one order of 1 unit per database transaction, written straight into the database (no HTTP, session, idempotency check or group commit)"
				case "orders", "orders-backup":
					var created uint64
					sample, created, err = sampleOrders(ctx, hc, sc.Base, orders, f.seed)
					ordersBefore.createdBySelf += created
				default:
					sample, err = sampleScenario(ctx, hc, sc, f.seed)
				}
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				samples[name] = sample
				logf("%s: %s", name, sample)
			}
			logf("%s (round %d/%d): %s warmup + %s with %d %s clients", name, round, f.rounds, f.warmup, f.duration, clients, f.client)
			cfg := bench.RunConfig{Clients: clients, Warmup: f.warmup, Duration: f.duration, Client: hc,
				Raw: f.client == "raw", Seed: f.seed + uint64(round)}
			if f.profileDir != "" && round == 1 {
				cfg.OnMeasure = cpuProfiler(filepath.Join(f.profileDir, "cpu-"+name+".pprof"), logf)
			}
			if name == "orders-backup" {
				cfg.OnMeasure = backups.during
			}
			res := bench.Run(ctx, cfg, sc)
			results[name] = append(results[name], res)
			logf("%s: %.0f requests/s, p99 %s, %d errors", name, res.RPS(), res.Latency.Quantile(0.99), res.Errors)
		}
	}
	for _, name := range f.scenarios {
		if rs := results[name]; len(rs) > 0 {
			clients := f.clients
			if usesOrders(name) {
				clients = ordersClients
			}
			rep.addScenario(rs, samples[name], clients)
		}
	}
	if len(results["orders-backup"]) > 0 {
		if err := reportBackups(ctx, backups, target.dsn, rep, logf); err != nil {
			return err
		}
	}
	if orders != nil && len(results["orders"])+len(results["orders-1tx"])+len(results["orders-backup"]) > 0 {
		created := ordersBefore.createdBySelf
		for _, res := range slices.Concat(results["orders"], results["orders-1tx"], results["orders-backup"]) {
			created += res.AllOK
		}
		msg, ok, err := checkOrders(ctx, srv.DB, ordersBefore, created)
		if err != nil {
			return fmt.Errorf("orders: check: %w", err)
		}
		logf("orders: %s", msg)
		for _, name := range []string{"orders", "orders-1tx", "orders-backup"} {
			rep.setCheck(name, msg, ok)
		}
	}
	if rep.Memory.AfterRun, err = bench.SelfMemory(); err != nil {
		logf("memory: %v", err)
	}
	return nil
}

// benchTarget is where the catalog lives.
type benchTarget struct {
	Engine string `json:"engine"`
	Where  string `json:"where"` // SQLite file, or PostgreSQL schema
	dsn    string
}

// benchDatabase picks the database: a fresh SQLite file under dataDir, a
// fresh schema in the PostgreSQL of f.db, or f.db itself. cleanup removes
// what was created (unless --keep) and dataDir.
func benchDatabase(ctx context.Context, f benchFlags, dataDir string) (benchTarget, func() error, error) {
	removeDir := func() error { return os.RemoveAll(dataDir) }
	switch {
	case f.db == "":
		dir := dataDir
		if f.keep {
			var err error
			if dir, err = os.MkdirTemp("", "kaidian-bench-db-"); err != nil {
				return benchTarget{}, nil, err
			}
		}
		path := filepath.Join(dir, "kaidian.db")
		t := benchTarget{Engine: string(db.SQLite), Where: path, dsn: path}
		return t, func() error {
			if f.keep {
				fmt.Fprintf(os.Stderr, "bench: kept the database; reuse it with --db %s\n", path)
			}
			return removeDir()
		}, nil
	case !db.IsPostgresURL(f.db):
		return benchTarget{Engine: string(db.SQLite), Where: f.db, dsn: f.db}, removeDir, nil
	}
	u, err := url.Parse(f.db)
	if err != nil {
		return benchTarget{}, nil, fmt.Errorf("bench: --db: %w", err)
	}
	if sp := u.Query().Get("search_path"); sp != "" {
		return benchTarget{Engine: string(db.Postgres), Where: "schema " + sp, dsn: f.db}, removeDir, nil
	}
	b := make([]byte, 6)
	_, _ = crand.Read(b)
	schema := "bench_" + hex.EncodeToString(b)
	admin, err := db.Open(ctx, f.db)
	if err != nil {
		return benchTarget{}, nil, err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return benchTarget{}, nil, fmt.Errorf("bench: create schema: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	t := benchTarget{Engine: string(db.Postgres), Where: "schema " + schema, dsn: u.String()}
	return t, func() error {
		defer removeDir()
		if f.keep {
			fmt.Fprintf(os.Stderr, "bench: kept schema %s; reuse it with --db '%s'\n", schema, u.Redacted())
			return nil
		}
		admin, err := db.Open(context.Background(), f.db)
		if err != nil {
			return err
		}
		defer admin.Close()
		_, err = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		return err
	}, nil
}

// loadCatalog migrates the database and bulk-loads ds, or reuses a catalog
// of the same size left by an earlier --keep run.
func loadCatalog(ctx context.Context, dsn string, ds *bench.Dataset, rep *benchReport, logf func(string, ...any)) error {
	d, err := db.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := d.Migrate(ctx); err != nil {
		return err
	}
	var shops, spus, skus int
	err = d.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM shops), (SELECT COUNT(*) FROM spus), (SELECT COUNT(*) FROM skus)`).
		Scan(&shops, &spus, &skus)
	if err != nil {
		return err
	}
	if shops > 0 {
		if shops != ds.Shops || spus != ds.SPUs || skus != ds.SKUs() {
			return fmt.Errorf("bench: the database holds %d shops, %d SPUs, %d SKUs, not the %d, %d, %d asked for; use an empty one",
				shops, spus, skus, ds.Shops, ds.SPUs, ds.SKUs())
		}
		logf("reusing the catalog in the database: %d shops, %d SPUs, %d SKUs", shops, spus, skus)
		rep.Load = loadReport{Shops: shops, Categories: shops * bench.CatsPerShop, SPUs: spus, SKUs: skus, Reused: true}
		return nil
	}
	logf("loading %d SPUs × %d = %d SKUs into %d shop(s) on %s", ds.SPUs, ds.SKUsPerSPU, ds.SKUs(), ds.Shops, d.Engine)
	st, err := bench.Load(ctx, d, ds, bench.LoadOptions{Progress: func(n int) {
		if n%100_000 == 0 || n == ds.SPUs {
			logf("  %d / %d SPUs", n, ds.SPUs)
		}
	}})
	if err != nil {
		return fmt.Errorf("bench: load: %w", err)
	}
	rep.Load = loadReport{Shops: st.Shops, Categories: st.Categories, SPUs: st.SPUs, SKUs: st.SKUs,
		Insert: st.Insert, Finish: st.Finish}
	logf("loaded in %s (+ %s finishing)", st.Insert.Round(time.Millisecond), st.Finish.Round(time.Millisecond))
	return nil
}

// useFreight puts every product of every shop on a freight template (once:
// a reused database keeps its templates).
func useFreight(ctx context.Context, dsn string, f benchFlags, logf func(string, ...any)) error {
	if !f.freight {
		return nil
	}
	d, err := db.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer d.Close()
	in := freight.Input{Name: "bench", Default: freight.Rule{FirstUnits: 1, FirstFee: 1000, ExtraUnits: 1, ExtraFee: 500},
		Free: []freight.Free{{MinAmount: 99900}}, NoDelivery: []string{"540000"}}
	for _, p := range []string{"650000", "150000", "630000", "640000", "620000", "330000", "320000", "310000"} {
		in.Rules = append(in.Rules, freight.Rule{Regions: []string{p}, FirstUnits: 1, FirstFee: 600, ExtraUnits: 1, ExtraFee: 300})
	}
	svc := freight.NewService(d)
	for shop := int64(1); shop <= int64(f.shops); shop++ {
		var has int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM freight_templates WHERE shop_id = ?`, shop).Scan(&has); err != nil {
			return err
		}
		if has > 0 {
			continue
		}
		t, err := svc.Create(ctx, shop, in)
		if err != nil {
			return err
		}
		if _, err := d.Exec(ctx, `UPDATE spus SET freight_template_id = ? WHERE shop_id = ?`, t.ID, shop); err != nil {
			return err
		}
	}
	logf("freight: every product on a template")
	return nil
}

func loadMembers(ctx context.Context, dsn string, f benchFlags, logf func(string, ...any)) error {
	if f.members == 0 {
		return nil
	}
	d, err := db.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer d.Close()
	n, err := bench.LoadMembers(ctx, d, f.shops, f.members)
	logf("members: added %d (asked for %d in all)", n, f.members)
	return err
}

// serveOnLoopback listens on 127.0.0.1:0 and runs serve in the background;
// wait waits for it to return.
func serveOnLoopback(ctx context.Context, serve func(net.Listener) error) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && ctx.Err() == nil {
			fmt.Fprintln(os.Stderr, "bench: server:", err)
		}
	}()
	return "http://" + ln.Addr().String(), func() { <-done }, nil
}

// serveBare runs the ceiling server with the same timeouts as kaidian's.
func serveBare(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: bench.BareHandler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	return srv.Serve(ln)
}

func cpuProfiler(path string, logf func(string, ...any)) func() func() {
	return func() func() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			logf("profile: %v", err)
			return nil
		}
		out, err := os.Create(path)
		if err != nil {
			logf("profile: %v", err)
			return nil
		}
		if err := pprof.StartCPUProfile(out); err != nil {
			out.Close()
			logf("profile: %v", err)
			return nil
		}
		// The allocation profile is cumulative since the process started,
		// so it is written at both ends of the window: the window's own
		// allocations are the difference (go tool pprof -diff_base).
		// (Named beside the CPU profile, never over it: bench-flash's
		// --profile FILE need not start with "cpu-".)
		allocs := filepath.Join(filepath.Dir(path), "allocs-"+strings.TrimPrefix(filepath.Base(path), "cpu-"))
		base := strings.TrimSuffix(allocs, ".pprof") + "-start.pprof"
		writeProfile("allocs", base, logf)
		return func() {
			pprof.StopCPUProfile()
			out.Close()
			logf("wrote %s", path)
			writeProfile("allocs", allocs, logf)
			logf("wrote %s and %s (the window's allocations: go tool pprof -sample_index=alloc_space -diff_base %s %s)",
				base, allocs, base, allocs)
		}
	}
}

// writeProfile writes the named runtime profile (allocs, heap, …) to path.
func writeProfile(name, path string, logf func(string, ...any)) {
	out, err := os.Create(path)
	if err != nil {
		logf("profile: %v", err)
		return
	}
	defer out.Close()
	if err := pprof.Lookup(name).WriteTo(out, 0); err != nil {
		logf("profile: %v", err)
	}
}

func writeHeapProfile(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	out, err := os.Create(filepath.Join(dir, "heap.pprof"))
	if err != nil {
		return err
	}
	defer out.Close()
	runtime.GC()
	return pprof.Lookup("heap").WriteTo(out, 0)
}
