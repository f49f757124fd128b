package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strings"

	"github.com/kaidian/kaidian/internal/config"
	"github.com/kaidian/kaidian/internal/demo"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
	"github.com/kaidian/kaidian/internal/server"

	"net/http"
)

func configUsage() string { return config.Usage() }

func version() string { return server.Version }

func runServe(ctx context.Context, args []string, getenv func(string) string) error {
	cfg, err := config.Load("serve", args, getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel)
	log.Info("starting", "version", version(), "config", cfg.Redacted())
	srv, err := server.New(ctx, cfg, log, server.Options{})
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	log.Info("listening", "addr", ln.Addr().String())
	return srv.Serve(ctx, ln)
}

func runMigrate(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	cfg, err := config.Load("migrate", args, getenv)
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, cfg.DatabaseURL())
	if err != nil {
		return err
	}
	defer d.Close()
	applied, err := d.Migrate(ctx)
	if err != nil {
		return err
	}
	v, err := d.Version(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: applied %d migration(s) %v; schema version %d\n", d.Engine, len(applied), applied, v)
	return nil
}

// runDemo serves a seeded demo shop on SQLite, with the WeChat sandbox
// mounted in the same process in place of api.weixin.qq.com.
func runDemo(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	cfg, err := config.Load("demo", args, getenv)
	if err != nil {
		return err
	}
	if db.IsPostgresURL(cfg.DB) {
		return fmt.Errorf("the demo runs on its own SQLite file; use serve for PostgreSQL")
	}
	if cfg.LogLevel == "info" {
		cfg.LogLevel = "warn" // keep the walkthrough readable
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	cfg.WeChatAPI, cfg.WeChatPayAPI, cfg.PublicURL = base+demo.SandboxMount, base+demo.PaySandboxMount, base
	sb := sandbox.New()
	sb.AddApp(demo.AppID, demo.AppSecret)
	pay, err := paysandbox.New(paysandbox.WithRefundsCompletedAfter(demo.RefundDelay))
	if err != nil {
		ln.Close()
		return err
	}
	defer pay.Close()
	log := newLogger(cfg.LogLevel)
	srv, err := server.New(ctx, cfg, log, server.Options{Extra: map[string]http.Handler{
		demo.SandboxMount + "/":    http.StripPrefix(demo.SandboxMount, sb),
		demo.PaySandboxMount + "/": http.StripPrefix(demo.PaySandboxMount, pay)}})
	if err != nil {
		ln.Close()
		return err
	}
	defer srv.Close()
	seeded, err := demo.Seed(ctx, srv)
	if err == nil {
		err = demo.ConnectPay(ctx, srv, pay)
	}
	if err != nil {
		ln.Close()
		return fmt.Errorf("seed demo: %w", err)
	}
	// Seeding hashes passwords with argon2id (19 MiB each); hand that memory
	// back now rather than at the next forced GC, so the idle demo stays small.
	debug.FreeOSMemory()
	fmt.Fprintf(stdout, "data folder: %s (%s)\n", cfg.DataDir, map[bool]string{true: "new demo shop seeded", false: "reusing its data"}[seeded])
	demo.Walkthrough(stdout, strings.TrimRight(base, "/"))
	return srv.Serve(ctx, ln)
}
