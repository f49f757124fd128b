package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/kaidian/kaidian/internal/config"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/server"
)

const auditUsage = `kaidian audit: the staff audit log

  kaidian audit verify [flags]   walk the whole hash chain of the audit log and say whether any record
                                 was changed, deleted or reordered (exit status 1 if so)

The flags are serve's (--data, --db, and the secret key: KAIDIAN_SECRET_KEY or <data>/secret.key,
which keys the chain).
`

func runAudit(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] == "help" {
		fmt.Fprint(stdout, auditUsage)
		return nil
	}
	if args[0] != "verify" {
		return fmt.Errorf("kaidian audit %s: unknown; see kaidian audit help", args[0])
	}
	cfg, err := config.Load("audit verify", args[1:], getenv)
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, cfg.DatabaseURL())
	if err != nil {
		return err
	}
	defer d.Close()
	svc, err := server.NewAuditService(cfg, d, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	rep, err := svc.Verify(ctx)
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(rep, "", "  ")
	fmt.Fprintln(stdout, string(b))
	if !rep.OK {
		return fmt.Errorf("the audit log's chain is broken at position %d: %s", rep.BrokenAt, rep.Problem)
	}
	fmt.Fprintf(stdout, "audit log good: %d records from position %d to %d, %d not sealed yet\n", rep.Checked, rep.FirstSeq, rep.LastSeq, rep.Unsealed)
	return nil
}
