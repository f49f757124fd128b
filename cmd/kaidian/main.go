// Command kaidian runs the kaidian platform: `kaidian demo` for a local demo
// shop, `kaidian serve` in production, `kaidian migrate` to apply database
// migrations, `kaidian version`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const usage = `kaidian: a self-hosted backend for WeChat mini-program shops

Usage:
  kaidian demo    [flags]   start a demo shop on SQLite with an in-process WeChat sandbox
  kaidian serve   [flags]   run the server
  kaidian migrate [flags]   apply database migrations and exit
  kaidian bench   [flags]   run the HTTP benchmark (see docs/benchmarks.md)
  kaidian bench all [flags] every benchmark with its anchor, one table of ratios
  kaidian bench-flash [flags] run the flash-sale benchmark
  kaidian bench-groups [flags] run the group-buying settlement benchmark
  kaidian bench-checkin [flags] run the midnight check-in benchmark (100,000 buyers)
  kaidian backup [sub] [flags] back up now; keygen, verify FILE, drill (kaidian backup help)
  kaidian restore FILE [flags] restore a backup into an empty database
  kaidian audit verify [flags] check the staff audit log's hash chain (kaidian audit help)
  kaidian moderate [flags]  check text on stdin against a rule file (or the configured rules)
  kaidian recs-eval [flags] evaluate the recommendations offline (HR@10, coverage vs popularity)
  kaidian version           print the version

Flags (each also read from its environment variable, or a --config file):
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "kaidian:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage+configUsage())
		return nil
	}
	err := runCommand(ctx, args[0], args[1:], stdout, getenv)
	if errors.Is(err, flag.ErrHelp) {
		return nil // --help printed the flags: a successful run
	}
	return err
}

func runCommand(ctx context.Context, cmd string, rest []string, stdout io.Writer, getenv func(string) string) error {
	switch cmd {
	case "demo":
		return runDemo(ctx, rest, stdout, getenv)
	case "serve":
		return runServe(ctx, rest, getenv)
	case "migrate":
		return runMigrate(ctx, rest, stdout, getenv)
	case "bench":
		return runBench(ctx, rest, stdout)
	case "bench-flash":
		return runBenchFlash(ctx, rest, stdout)
	case "bench-groups":
		return runBenchGroups(ctx, rest, stdout)
	case "bench-checkin":
		return runBenchCheckin(ctx, rest, stdout)
	case "backup":
		return runBackup(ctx, rest, stdout, getenv)
	case "restore":
		return runRestore(ctx, rest, stdout, getenv)
	case "audit":
		return runAudit(ctx, rest, stdout, getenv)
	case "version":
		fmt.Fprintln(stdout, "kaidian", version())
		return nil
	case "moderate":
		return runModerate(ctx, rest, os.Stdin, stdout, getenv)
	case "recs-eval":
		return runRecsEval(ctx, rest, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage+configUsage())
		return nil
	}
	return fmt.Errorf("unknown command %q; run kaidian help", cmd)
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
