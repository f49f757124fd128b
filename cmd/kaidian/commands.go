package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/kaidian/kaidian/internal/config"
	"github.com/kaidian/kaidian/internal/demo"
	"github.com/kaidian/kaidian/internal/platform/db"
	kdsandbox "github.com/kaidian/kaidian/internal/platform/kuaidi100/sandbox"
	smssandbox "github.com/kaidian/kaidian/internal/platform/sms/sandbox"
	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
	"github.com/kaidian/kaidian/internal/server"

	"net/http"
)

func configUsage() string { return config.Usage() }

// commit is the commit the binary was built from when the build says so:
// go build -ldflags "-X main.commit=$(git rev-parse HEAD)". Builds with
// -buildvcs=false (CI sets GOFLAGS=-buildvcs=false) record no vcs.revision,
// so without it version would say "unknown".
var commit string

// version is the release (server.Version, set with -ldflags), the module
// version and the commit the binary was built from: main.commit when set
// with -ldflags, else the vcs.revision Go's build info records.
func version() string {
	info, ok := debug.ReadBuildInfo()
	return versionOf(info, ok, commit)
}

func versionOf(info *debug.BuildInfo, ok bool, linked string) string {
	mod, rev, modified := "(unknown)", "unknown", false
	if ok {
		mod = info.Main.Path + " " + info.Main.Version
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if linked != "" {
		rev, modified = linked, false // the builder's word; build info's flag is about its own checkout
	}
	if modified {
		rev += " (modified)"
	}
	return fmt.Sprintf("%s (module %s, commit %s, %s)", server.Version, mod, rev, runtime.Version())
}

func runServe(ctx context.Context, args []string, getenv func(string) string) error {
	cfg, err := config.Load("serve", args, getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel)
	warnSettings(log, cfg)
	log.Info("starting", "version", version(), "config", cfg.Redacted())
	setMemoryLimit(cfg.MemoryLimitMB, getenv)
	srv, err := server.New(ctx, cfg, log, server.Options{RequirePublicURL: true})
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("metrics address: %w", err)
		}
		log.Info("metrics listening", "addr", mln.Addr().String())
		go func() {
			if err := srv.ServeMetrics(ctx, mln); err != nil {
				log.Error("metrics listener", "err", err)
			}
		}()
	}
	if cfg.MetricsAddr == "" && cfg.MetricsToken == "" && !isLoopback(cfg.Addr) {
		log.Warn("/metrics is public on the listen address: set --metrics-addr (e.g. 127.0.0.1:9090) or --metrics-token")
	}
	log.Info("listening", "addr", ln.Addr().String(), "tls", cfg.TLSCert != "")
	return srv.Serve(ctx, ln)
}

// warnSettings logs the settings that were given but mean nothing: unknown
// keys in the config file and unknown KAIDIAN_* variables.
func warnSettings(log *slog.Logger, cfg config.Config) {
	for _, w := range append(cfg.Warnings, config.UnknownVariables(os.Environ())...) {
		log.Warn(w)
	}
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
	if err := sb.AddTemplate(demo.AppID, demo.PaidTemplateID, demo.PaidTemplateKeys...); err != nil {
		return err
	}
	pay, err := paysandbox.New(paysandbox.WithRefundsCompletedAfter(demo.RefundDelay))
	if err != nil {
		ln.Close()
		return err
	}
	defer pay.Close()
	sb.UsePayments(pay) // the shipping APIs ship the demo's payments
	// Parcels are followed at a 快递100 sandbox whose routes move a step
	// every demo.ParcelStep.
	parcels := kdsandbox.New()
	cfg.Kuaidi100API, cfg.Kuaidi100Customer, cfg.Kuaidi100Key = base+demo.ParcelSandboxMount, kdsandbox.Customer, kdsandbox.Key
	go parcels.Run(ctx, demo.ParcelStep)
	texts := smssandbox.New() // SMS: verification codes
	log := newLogger(cfg.LogLevel)
	warnSettings(log, cfg)
	srv, err := server.New(ctx, cfg, log, server.Options{Extra: map[string]http.Handler{
		demo.SandboxMount + "/":       http.StripPrefix(demo.SandboxMount, sb),
		demo.PaySandboxMount + "/":    http.StripPrefix(demo.PaySandboxMount, pay),
		demo.ParcelSandboxMount + "/": http.StripPrefix(demo.ParcelSandboxMount, parcels),
		demo.SMSSandboxMount + "/":    http.StripPrefix(demo.SMSSandboxMount, texts)},
		SMS: texts.Client(base + demo.SMSSandboxMount)})
	if err != nil {
		ln.Close()
		return err
	}
	defer srv.Close()
	seeded, err := demo.Seed(ctx, srv)
	if err == nil {
		err = demo.ConnectPay(ctx, srv, pay)
	}
	if err == nil {
		err = demo.ConnectSMS(ctx, srv)
	}
	if err == nil {
		err = demo.ConnectXPay(ctx, srv, sb, base)
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

// isLoopback reports whether addr (host:port) listens only on this machine.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// setMemoryLimit sets the Go runtime's soft memory limit to mb MiB unless
// GOMEMLIMIT is set. Without a limit the heap grows to twice what is live
// before a collection (GOGC=100): with a 1M-SKU read model (about 200 MiB
// live) that alone passes 400 MiB.
func setMemoryLimit(mb int, getenv func(string) string) {
	if getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(int64(mb) << 20)
}
