package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/recs"
)

const recsEvalUsage = `kaidian recs-eval: offline evaluation of the recommendations

Builds a purchase history (generated with planted co-purchase structure, or
read from a shop's paid orders with --dsn and --shop), holds out each buyer's
last order (one of its products), learns from the rest and reports hit rate
@10 and catalog coverage of the co-occurrence model against the popularity
baseline, in the same run; then the build time over the whole history and
the in-memory read latency of the product route's work.

`

type recsEvalFlags struct {
	users, products, lines, sample, reads int
	halfLife                              int
	seed                                  uint64
	dsn                                   string
	shop                                  int64
}

func runRecsEval(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("recs-eval", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var f recsEvalFlags
	fs.IntVar(&f.users, "users", 100_000, "generated buyers")
	fs.IntVar(&f.products, "products", 10_000, "generated products")
	fs.IntVar(&f.lines, "lines", 1_000_000, "generated order lines")
	fs.IntVar(&f.sample, "sample", 20_000, "buyers asked for recommendations (0 = all with a held-out purchase)")
	fs.IntVar(&f.reads, "reads", 20_000, "reads timed for the latency figures")
	fs.IntVar(&f.halfLife, "half-life-days", 90, "decay half-life")
	fs.Uint64Var(&f.seed, "seed", 1, "random seed")
	fs.StringVar(&f.dsn, "dsn", "", "read the history from this database instead of generating it (needs --shop)")
	fs.Int64Var(&f.shop, "shop", 0, "the shop whose history --dsn reads")
	fs.Usage = func() { fmt.Fprint(stdout, recsEvalUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return err
	}
	lines, cats, source, err := recsHistory(ctx, f)
	if err != nil {
		return err
	}
	halfLife := time.Duration(f.halfLife) * 24 * time.Hour
	fmt.Fprintf(stdout, "history: %s\n", source)
	res := recs.Evaluate(lines, cats, halfLife, f.sample, f.seed)
	fmt.Fprintf(stdout, "buyers %d, products %d, lines %d; evaluated %d buyers (last order held out)\n",
		res.Users, res.Products, res.Lines, res.Evaluated)
	fmt.Fprintf(stdout, "%-22s %8s %10s\n", "model", "HR@10", "coverage")
	fmt.Fprintf(stdout, "%-22s %8.4f %10.4f\n", "co-occurrence", res.HitRate, res.Coverage)
	fmt.Fprintf(stdout, "%-22s %8.4f %10.4f\n", "popularity baseline", res.BaselineHit, res.BaselineCov)
	verdict := "beats"
	if res.HitRate <= res.BaselineHit {
		verdict = "does NOT beat"
	}
	fmt.Fprintf(stdout, "co-occurrence %s the popularity baseline on HR@10 (%.2fx)\n", verdict, res.HitRate/max(res.BaselineHit, 1e-9))

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	m := recs.Build(lines, cats, recs.Params{HalfLife: halfLife, Keep: 40, Now: time.Now().UnixMilli()})
	took := time.Since(start)
	enc := m.Encode()
	fmt.Fprintf(stdout, "build over %d lines: %s (%d products with neighbours; stored model %.1f MB)\n",
		m.Lines, took.Round(time.Millisecond), len(m.Together), float64(len(enc))/(1<<20))
	if f.reads > 0 {
		p50, p99, worst := recs.ReadLatency(m, cats, f.reads, 10, f.seed)
		fmt.Fprintf(stdout, "read (ranking + catalog summaries, in memory, %d reads): p50 %s, p99 %s, max %s\n",
			f.reads, p50, p99, worst)
	}
	return nil
}

func recsHistory(ctx context.Context, f recsEvalFlags) ([]recs.Line, map[int64]int64, string, error) {
	if f.dsn == "" {
		lines, cats := recs.Generate(recs.GenSpec{Users: f.users, Products: f.products, Lines: f.lines, Seed: f.seed,
			Now: time.Now().UnixMilli()})
		return lines, cats, fmt.Sprintf("generated in memory (bundles of 5 complements, 20%% best-seller noise, seed %d)", f.seed), nil
	}
	if f.shop <= 0 {
		return nil, nil, "", fmt.Errorf("recs-eval: --dsn needs --shop")
	}
	d, err := db.Open(ctx, f.dsn)
	if err != nil {
		return nil, nil, "", err
	}
	defer d.Close()
	lines, cats, err := recs.NewService(d, nil).History(ctx, f.shop)
	return lines, cats, fmt.Sprintf("shop %d's paid orders", f.shop), err
}
