package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kaidian/kaidian/internal/bench"
	"github.com/kaidian/kaidian/internal/config"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/session"
	"github.com/kaidian/kaidian/internal/server"
)

const benchCheckinUsage = `Usage: kaidian bench-checkin [flags]

Midnight at a shop: --users distinct buyers (each with a session) check in
through POST /api/v1/me/checkin, each request as the next buyer, against
the kaidian server on 127.0.0.1, and the bare net/http handler is measured
with the same clients in the same run (the machine's ceiling). Afterwards
the database is checked: one check-in row and one day counted per buyer
that was sent, whatever the number of answers.

Flags:
`

type benchCheckinFlags struct {
	db               string
	users, clients   int
	duration, warmup time.Duration
	raw, keep        bool
	profile          string
}

func runBenchCheckin(ctx context.Context, args []string, stdout io.Writer) (err error) {
	var f benchCheckinFlags
	fs := flag.NewFlagSet("bench-checkin", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() { fmt.Fprint(stdout, benchCheckinUsage); fs.PrintDefaults() }
	fs.StringVar(&f.db, "db", "", "database: a postgres:// URL (a fresh schema bench_<random> is created in it) or a SQLite file; default a new SQLite file in a temporary folder")
	fs.IntVar(&f.users, "users", 100_000, "distinct buyers")
	fs.IntVar(&f.clients, "clients", 64, "concurrent keep-alive clients")
	fs.DurationVar(&f.duration, "duration", 10*time.Second, "measured time per scenario")
	fs.DurationVar(&f.warmup, "warmup", time.Second, "unmeasured time before each scenario")
	fs.BoolVar(&f.raw, "raw", false, "use the raw load generator (one hand-written HTTP/1.1 connection per client) instead of net/http's client")
	fs.BoolVar(&f.keep, "keep", false, "keep the database")
	fs.StringVar(&f.profile, "profile", "", "write a CPU profile of the check-in window to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if f.users < 1 || f.clients < 1 {
		return fmt.Errorf("bench-checkin: --users and --clients must be at least 1")
	}
	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, "bench-checkin: "+format+"\n", a...) }
	dataDir, err := os.MkdirTemp("", "kaidian-bench-checkin-")
	if err != nil {
		return err
	}
	target, cleanup, err := benchDatabase(ctx, benchFlags{db: f.db, keep: f.keep}, dataDir)
	if err != nil {
		os.RemoveAll(dataDir)
		return err
	}
	defer func() {
		if cerr := cleanup(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if err := loadCheckinBuyers(ctx, target.dsn, f.users, logf); err != nil {
		return err
	}
	cfg, err := config.Load("serve", []string{"--db", target.dsn, "--data", filepath.Join(dataDir, "server"),
		"--log-level", "warn", "--addr", "127.0.0.1:0", "--require-totp=false"}, func(string) string { return "" })
	if err != nil {
		return err
	}
	srv, err := server.New(ctx, cfg, newLogger(cfg.LogLevel), server.Options{})
	if err != nil {
		return fmt.Errorf("server.New: %w", err)
	}
	defer srv.Close()
	tokens, err := checkinSessions(ctx, srv, logf)
	if err != nil {
		return err
	}

	serveCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	kaidianURL, waitKaidian, err := serveOnLoopback(serveCtx, func(ln net.Listener) error { return srv.Serve(serveCtx, ln) })
	if err != nil {
		stop()
		return err
	}
	bareURL, waitBare, err := serveOnLoopback(serveCtx, func(ln net.Listener) error { return serveBare(serveCtx, ln) })
	if err != nil {
		stop()
		waitKaidian()
		return err
	}
	defer func() { stop(); waitKaidian(); waitBare() }()

	rc := bench.RunConfig{Clients: f.clients, Warmup: f.warmup, Duration: f.duration, Raw: f.raw, Seed: 1}
	if !f.raw {
		rc.Client = bench.NewClient(f.clients)
	}
	logf("bare: %d clients, %s", f.clients, f.duration)
	bare := bench.Run(ctx, rc, bench.Scenario{Name: "bare", Base: bareURL, Next: func(*mrand.Rand) bench.Request { return bench.Request{Path: "/"} }})
	if f.profile != "" {
		rc.OnMeasure = cpuProfiler(f.profile, logf)
	}
	var sent atomic.Int64
	appid := bench.AppID(1)
	logf("checkin: %d buyers, %d clients, %s", len(tokens), f.clients, f.duration)
	res := bench.Run(ctx, rc, bench.Scenario{Name: "checkin", Base: kaidianURL, Next: func(*mrand.Rand) bench.Request {
		i := (sent.Add(1) - 1) % int64(len(tokens))
		return bench.Request{Method: "POST", Path: "/api/v1/me/checkin", AppID: appid,
			Headers: []bench.Header{{Name: "Authorization", Value: "Bearer " + tokens[i]}}}
	}})
	distinct := min(sent.Load(), int64(len(tokens)))
	check, ok, err := checkCheckins(ctx, srv.DB, distinct)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database: %s (%s)\n", target.Engine, target.Where)
	fmt.Fprintf(stdout, "%-8s %10s %8s %10s %10s %8s\n", "scenario", "req/s", "of bare", "p50", "p99", "errors")
	for _, r := range []bench.Result{bare, res} {
		fmt.Fprintf(stdout, "%-8s %10.0f %7.0f%% %10s %10s %8d\n", r.Name, r.RPS(), 100*r.RPS()/bare.RPS(),
			r.Latency.Quantile(0.5).Round(10*time.Microsecond), r.Latency.Quantile(0.99).Round(10*time.Microsecond), r.Errors)
	}
	fmt.Fprintf(stdout, "check: %s\n", check)
	for _, s := range res.ErrSample {
		fmt.Fprintln(stdout, "error:", s)
	}
	if !ok {
		return fmt.Errorf("bench-checkin: the database does not match what was sent")
	}
	return nil
}

// loadCheckinBuyers migrates the database, adds shop 1 and users buyers.
func loadCheckinBuyers(ctx context.Context, dsn string, users int, logf func(string, ...any)) error {
	d, err := db.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := d.Migrate(ctx); err != nil {
		return err
	}
	if _, err := d.Exec(ctx, `INSERT INTO shops (name, appid, subject_type, created_at, updated_at) VALUES ('签到压测店', ?, 'enterprise', 0, 0)
		ON CONFLICT DO NOTHING`, bench.AppID(1)); err != nil {
		return fmt.Errorf("bench-checkin: shop: %w", err)
	}
	start := time.Now()
	n, err := bench.LoadMembers(ctx, d, 1, users)
	logf("%d buyers added in %s", n, time.Since(start).Round(time.Millisecond))
	return err
}

// checkinSessions gives every buyer of shop 1 a session (several writers at once).
func checkinSessions(ctx context.Context, srv *server.Server, logf func(string, ...any)) ([]string, error) {
	ids, err := db.All(ctx, srv.DB, func(r db.Scanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, `SELECT id FROM members WHERE shop_id = 1 ORDER BY id`)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	tokens := make([]string, len(ids))
	var wg sync.WaitGroup
	var first error
	var once sync.Once
	const writers = 8
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(ids); i += writers {
				tok, _, err := srv.Sessions.Create(ctx, session.Member, ids[i], 1, 24*time.Hour)
				if err != nil {
					once.Do(func() { first = err })
					return
				}
				tokens[i] = tok
			}
		}()
	}
	wg.Wait()
	logf("%d sessions in %s", len(tokens), time.Since(start).Round(time.Millisecond))
	return tokens, first
}

// checkCheckins verifies that each of the first distinct buyers checked in
// exactly once: as many rows as buyers, each counted one day.
func checkCheckins(ctx context.Context, d *db.DB, distinct int64) (string, bool, error) {
	var rows, members, days int64
	err := d.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM checkins WHERE shop_id = 1),
		(SELECT COUNT(DISTINCT member_id) FROM checkins WHERE shop_id = 1),
		(SELECT COALESCE(SUM(total_days), 0) FROM checkin_summaries WHERE shop_id = 1)`).Scan(&rows, &members, &days)
	if err != nil {
		return "", false, err
	}
	msg := fmt.Sprintf("%d buyers sent, %d check-in rows of %d distinct buyers, %d days counted", distinct, rows, members, days)
	// A request still in flight when the run stopped may have been cut: at
	// most one per client fewer rows than buyers sent, never more.
	ok := rows == members && members == days && rows <= distinct
	return msg, ok, nil
}
