package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

const benchAllUsage = `Usage: kaidian bench all [flags]

Runs every HTTP benchmark with its anchor, on SQLite and (with --postgres)
on PostgreSQL, and prints one table of ratios, each measured in the same
run as its anchor:

  detail, category, search   against bare (a plain net/http handler)
  orders                     against orders-1tx (the same rows, one
                             transaction per order, no HTTP)
  paid path (with --paid-test) against the RSA-2048 signing ceiling
                             (sign/s ÷ 4), from the server's Go benchmark
  flash engine               against one claim per transaction
  flash claim HTTP           against bare
  flash claim HTTP, N serve processes (PostgreSQL, --processes)
                             against GET /healthz of the same processes
  group settlement           --groups groups falling due at once, until
                             every refund is accepted (target: 60 s)

The flash and group rows run kaidian bench-flash and bench-groups with
the flags below (each also works alone). Figures move with the machine's
load; the ratios are what to compare.

Flags:
`

type benchAllFlags struct {
	postgres  string
	spus      int
	duration  time.Duration
	warmup    time.Duration
	rounds    int
	paidTest  string
	paidIters int

	flash                 bool
	flashBuyers           int
	processes             int
	procBuyers, procUnits int
	groups, groupWorkers  int
}

// benchAllRow is one line of the table.
type benchAllRow struct {
	Engine, Path, Anchor string
	RPS, AnchorRPS       float64
	P99                  float64 // ms; 0 = not measured
	Target, Result       string
}

func runBenchAll(ctx context.Context, args []string, stdout io.Writer) error {
	var f benchAllFlags
	fs := flag.NewFlagSet("bench all", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() { fmt.Fprint(stdout, benchAllUsage); fs.PrintDefaults() }
	fs.StringVar(&f.postgres, "postgres", "", "also run on this PostgreSQL (a postgres:// URL; a fresh schema is used and dropped)")
	fs.IntVar(&f.spus, "spus", 20_000, "products (SPUs) of the generated catalog")
	fs.DurationVar(&f.duration, "duration", 10*time.Second, "measured time per scenario and round")
	fs.DurationVar(&f.warmup, "warmup", 2*time.Second, "unmeasured time before each scenario")
	fs.IntVar(&f.rounds, "rounds", 2, "interleaved rounds (median requests/s)")
	fs.StringVar(&f.paidTest, "paid-test", "", "a compiled test binary of internal/server (go test -c -o server.test ./internal/server/): runs BenchmarkPaidPath on the same engines")
	fs.IntVar(&f.paidIters, "paid-iterations", 1000, "paid orders per paid-path run")
	fs.BoolVar(&f.flash, "flash", true, "run the flash-sale rows (engine, baseline, HTTP)")
	fs.IntVar(&f.flashBuyers, "flash-buyers", 100_000, "distinct buyers of the flash engine and HTTP runs (for half as many units)")
	fs.IntVar(&f.processes, "processes", 2, "with --postgres: serve processes of the scale-out flash row (0 skips it)")
	fs.IntVar(&f.procBuyers, "processes-buyers", 3_000, "buyers of the scale-out flash row")
	fs.IntVar(&f.procUnits, "processes-units", 200, "units of the scale-out flash row")
	fs.IntVar(&f.groups, "groups", 10_000, "groups of the group-settlement row (0 skips it)")
	fs.IntVar(&f.groupWorkers, "groups-workers", 8, "job workers sending the group refunds")
	if err := fs.Parse(args); err != nil {
		return err
	}
	engines := []string{""}
	if f.postgres != "" {
		engines = append(engines, f.postgres)
	}
	var rows []benchAllRow
	for _, dsn := range engines {
		r, err := benchAllHTTP(ctx, f, dsn)
		if err != nil {
			return err
		}
		rows = append(rows, r...)
		r, err = benchAllFlash(ctx, f, dsn)
		if err != nil {
			return err
		}
		rows = append(rows, r...)
		if f.groups > 0 {
			row, err := benchAllGroups(ctx, f, dsn)
			if err != nil {
				return err
			}
			rows = append(rows, row)
		}
	}
	if f.paidTest != "" {
		r, err := benchAllPaid(ctx, f)
		if err != nil {
			return err
		}
		rows = append(rows, r...)
	}
	writeBenchAll(stdout, rows)
	return nil
}

// benchAllHTTP runs the HTTP benchmark with every scenario and its anchor
// on one database and turns its report into rows.
func benchAllHTTP(ctx context.Context, f benchAllFlags, dsn string) ([]benchAllRow, error) {
	args := []string{"--json", "--spus", strconv.Itoa(f.spus), "--duration", f.duration.String(), "--warmup", f.warmup.String(),
		"--rounds", strconv.Itoa(f.rounds), "--scenarios", "bare,detail,category,search,orders-1tx,orders"}
	if dsn != "" {
		args = append(args, "--db", dsn)
	}
	var out bytes.Buffer
	if err := runBench(ctx, args, &out); err != nil {
		return nil, err
	}
	var rep struct {
		Database  benchTarget `json:"database"`
		Scenarios []struct {
			Name   string  `json:"name"`
			RPS    float64 `json:"requests_per_second"`
			P99    float64 `json:"p99_ms"`
			Target string  `json:"target"`
			Result string  `json:"result"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return nil, fmt.Errorf("bench all: reading the report: %w", err)
	}
	rps := map[string]float64{}
	for _, s := range rep.Scenarios {
		rps[s.Name] = s.RPS
	}
	var rows []benchAllRow
	for _, s := range rep.Scenarios {
		anchor := "bare"
		if a, ok := scenarioAnchors[s.Name]; ok {
			anchor = a
		}
		if s.Name == "bare" || s.Name == "orders-1tx" {
			continue
		}
		rows = append(rows, benchAllRow{Engine: rep.Database.Engine, Path: s.Name, Anchor: anchor, RPS: s.RPS,
			AnchorRPS: rps[anchor], P99: s.P99, Target: s.Target, Result: s.Result})
	}
	return rows, nil
}

// benchAllFlash runs bench-flash on one database (and, on PostgreSQL,
// again against serve processes) and turns its reports into rows.
func benchAllFlash(ctx context.Context, f benchAllFlags, dsn string) ([]benchAllRow, error) {
	var rows []benchAllRow
	if f.flash {
		units := strconv.Itoa(f.flashBuyers / 2)
		args := []string{"--buyers", strconv.Itoa(f.flashBuyers), "--units", units,
			"--http-buyers", strconv.Itoa(f.flashBuyers), "--http-units", units}
		rep, err := runReport[flashReport](ctx, runBenchFlash, dsn, args)
		if err != nil {
			return nil, err
		}
		rows = append(rows, flashRows(rep)...)
	}
	if dsn != "" && f.processes > 0 {
		rep, err := runReport[flashReport](ctx, runBenchFlash, dsn, []string{"--no-engine", "--no-http", "--serve-processes", strconv.Itoa(f.processes),
			"--http-buyers", strconv.Itoa(f.procBuyers), "--http-units", strconv.Itoa(f.procUnits)})
		if err != nil {
			return nil, err
		}
		rows = append(rows, flashRows(rep)...)
	}
	return rows, nil
}

// runReport runs a benchmark command with --json (on dsn, if any) and
// reads its report.
func runReport[T any](ctx context.Context, run func(context.Context, []string, io.Writer) error, dsn string, args []string) (T, error) {
	if dsn != "" {
		args = append(args, "--db", dsn)
	}
	var out bytes.Buffer
	var rep T
	if err := run(ctx, append([]string{"--json"}, args...), &out); err != nil {
		return rep, err
	}
	err := json.Unmarshal(out.Bytes(), &rep)
	return rep, err
}

// flashTargets are issue 19's targets for the flash engine (confirmed
// claims per second).
var flashTargets = map[string]float64{"sqlite": 100_000, "postgres": 50_000}

// flashRows turns a bench-flash report into the table's rows.
func flashRows(rep flashReport) []benchAllRow {
	var rows []benchAllRow
	if e, b := rep.EngineRun, rep.Baseline; e != nil && b != nil {
		goal := flashTargets[rep.Engine]
		rows = append(rows, benchAllRow{Engine: rep.Engine, Path: "flash engine", Anchor: "1 claim per transaction",
			RPS: e.PerSecond, AnchorRPS: b.PerSecond, P99: e.P99ms, Target: fmt.Sprintf("≥ %.0f confirmed/s", goal),
			Result: verdict(e.PerSecond >= goal, e.CheckOK && b.CheckOK)})
	}
	if h, b := rep.HTTP, rep.Bare; h != nil && b != nil {
		rows = append(rows, benchAllRow{Engine: rep.Engine, Path: "flash claim HTTP", Anchor: "bare", RPS: h.PerSecond,
			AnchorRPS: b.PerSecond, P99: h.P99ms, Target: "≥ 70% of bare", Result: verdict(h.PerSecond >= 0.7*b.PerSecond, h.CheckOK)})
	}
	if p, h := rep.ProcessesRun, rep.Healthz; p != nil && h != nil {
		rows = append(rows, benchAllRow{Engine: rep.Engine, Path: fmt.Sprintf("flash claim HTTP, %d processes", rep.Processes),
			Anchor: "GET /healthz, same processes", RPS: p.PerSecond, AnchorRPS: h.PerSecond, P99: p.P99ms,
			Target: "≥ 50% of /healthz", Result: verdict(p.PerSecond >= 0.5*h.PerSecond, p.CheckOK)})
	}
	return rows
}

// benchAllGroups runs bench-groups on one database: the row's rate is
// refunds accepted per second; its target is every refund within 60 s.
func benchAllGroups(ctx context.Context, f benchAllFlags, dsn string) (benchAllRow, error) {
	rep, err := runReport[groupsReport](ctx, runBenchGroups, dsn,
		[]string{"--groups", strconv.Itoa(f.groups), "--workers", strconv.Itoa(f.groupWorkers)})
	if err != nil {
		return benchAllRow{}, err
	}
	return groupsRow(rep), nil
}

func groupsRow(rep groupsReport) benchAllRow {
	row := benchAllRow{Engine: rep.Engine, Path: fmt.Sprintf("group settlement, %d groups", rep.Groups), Anchor: "-",
		Target: "all refunds within 60 s", Result: verdict(rep.Seconds <= 60, rep.CheckOK)}
	if rep.Seconds > 0 {
		row.RPS = float64(rep.Refunds) / rep.Seconds
	}
	row.Result += fmt.Sprintf(" (%.1f s)", rep.Seconds)
	return row
}

// verdict is a row's result: a failed database check outranks the figure.
func verdict(met, checked bool) string {
	switch {
	case !checked:
		return "CHECK FAILED"
	case met:
		return "PASS"
	}
	return "MISS"
}

// benchAllPaid runs the server's paid-path Go benchmark (both engines when
// --postgres is set) and reads its metrics.
func benchAllPaid(ctx context.Context, f benchAllFlags) ([]benchAllRow, error) {
	cmd := exec.CommandContext(ctx, f.paidTest, "-test.run", "^$", "-test.bench", "PaidPath",
		"-test.benchtime", strconv.Itoa(f.paidIters)+"x", "-test.count", "1")
	cmd.Env = append(os.Environ(), "KAIDIAN_TEST_POSTGRES="+f.postgres)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("bench all: %s: %w\n%s", f.paidTest, err, out)
	}
	return parsePaidPath(out), nil
}

// parsePaidPath reads lines such as
// "BenchmarkPaidPath/postgres-2  1000  …  75.1 paid/s  0.30 ratio-to-ceiling  1000 rsa-sign/s".
func parsePaidPath(out []byte) []benchAllRow {
	var rows []benchAllRow
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || !strings.HasPrefix(fields[0], "BenchmarkPaidPath/") {
			continue
		}
		engine, _, _ := strings.Cut(strings.TrimPrefix(fields[0], "BenchmarkPaidPath/"), "-")
		metrics := map[string]float64{}
		for i := 1; i+1 < len(fields); i++ {
			if v, err := strconv.ParseFloat(fields[i], 64); err == nil {
				metrics[fields[i+1]] = v
			}
		}
		row := benchAllRow{Engine: engine, Path: "paid path", Anchor: "RSA-2048 sign/s ÷ 4", RPS: metrics["paid/s"],
			AnchorRPS: metrics["rsa-sign/s"] / rsaSignsPerPaidOrder, Target: "≥ 0.5 of the ceiling", Result: "MISS"}
		if row.AnchorRPS > 0 && row.RPS/row.AnchorRPS >= 0.5 {
			row.Result = "PASS"
		}
		rows = append(rows, row)
	}
	return rows
}

// rsaSignsPerPaidOrder is the paid path's RSA-2048 signatures per order
// (as in the server's benchmark).
const rsaSignsPerPaidOrder = 4

func writeBenchAll(w io.Writer, rows []benchAllRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.Debug)
	fmt.Fprintln(tw, "engine\tpath\tper s\tanchor (same run)\tanchor per s\tratio\tp99 ms\ttarget\tresult\t")
	for _, r := range rows {
		ratio, p99 := "-", "-"
		if r.AnchorRPS > 0 {
			ratio = fmt.Sprintf("%.3f", r.RPS/r.AnchorRPS)
		}
		if r.P99 > 0 {
			p99 = fmt.Sprintf("%.1f", r.P99)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%s\t%.0f\t%s\t%s\t%s\t%s\t\n", r.Engine, r.Path, r.RPS, r.Anchor, r.AnchorRPS, ratio, p99, r.Target, r.Result)
	}
	tw.Flush()
}
