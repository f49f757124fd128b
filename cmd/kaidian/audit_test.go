package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/audit"
	"github.com/kaidian/kaidian/internal/config"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/server"
)

// TestAuditVerifyProvesTheChainAndRejectsATamperedCopy: records written
// and sealed as serve does pass `kaidian audit verify`; a copy of the data
// folder whose database had one record edited (triggers dropped first, as
// the database's owner could) fails it, naming the record.
func TestAuditVerifyProvesTheChainAndRejectsATamperedCopy(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	var out bytes.Buffer
	if err := run(ctx, []string{"migrate", "--data", data}, &out, noenv); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load("test", []string{"--data", data}, noenv)
	if err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(ctx, cfg.DatabaseURL())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := server.NewAuditService(cfg, d, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"li", "wang", "zhao"} {
		if err := svc.Record(ctx, d, audit.Entry{Actor: who, Action: "POST /admin/api/v1/shops", Status: 201, After: `{"id":1}`}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	d.Close()
	out.Reset()
	if err := run(ctx, []string{"audit", "verify", "--data", data}, &out, noenv); err != nil || !strings.Contains(out.String(), "audit log good: 3 records") {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}

	copied := t.TempDir()
	for _, f := range []string{"kaidian.db", "secret.key"} {
		b, err := os.ReadFile(filepath.Join(data, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(copied, f), b, 0o600)
	}
	c, err := db.Open(ctx, filepath.Join(copied, "kaidian.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER audit_log_sealed_rows_stay`, `UPDATE audit_log SET actor = 'nobody' WHERE actor = 'wang'`} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	out.Reset()
	err = run(ctx, []string{"audit", "verify", "--data", copied}, &out, noenv)
	if err == nil || !strings.Contains(err.Error(), "was changed") || !strings.Contains(out.String(), `"ok": false`) {
		t.Fatalf("the tampered copy: %v\n%s", err, out.String())
	}
	// The original still verifies: the copy's change is the copy's.
	if err := run(ctx, []string{"audit", "verify", "--data", data}, &out, noenv); err != nil {
		t.Fatal(err)
	}
}
