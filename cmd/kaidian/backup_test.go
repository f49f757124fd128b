package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/backup"
	"github.com/kaidian/kaidian/internal/platform/db"
)

// TestBackupCommandsRoundTrip: kaidian backup writes a file that backup
// verify accepts and restore brings back into a new data folder with the
// uploaded files; restore over a database with data, verify with another
// key, and backup without a key are refused with their reasons.
func TestBackupCommandsRoundTrip(t *testing.T) {
	ctx := context.Background()
	data, restored := t.TempDir(), t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "backup.key")
	os.WriteFile(keyFile, []byte(backup.NewKey()+"\n"), 0o600)
	var out bytes.Buffer
	if err := run(ctx, []string{"migrate", "--data", data}, &out, noenv); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(ctx, filepath.Join(data, "kaidian.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.TestShop(t, d, "wx-backup-cli")
	d.Close()
	os.MkdirAll(filepath.Join(data, "blobs", "shop", "1"), 0o750)
	os.WriteFile(filepath.Join(data, "blobs", "shop", "1", "logo.png"), []byte("a logo"), 0o640)

	out.Reset()
	if err := run(ctx, []string{"backup", "--data", data, "--backup-key-file", keyFile}, &out, noenv); err != nil || !strings.Contains(out.String(), `"status": "ok"`) {
		t.Fatalf("backup: %v\n%s", err, out.String())
	}
	files, _ := filepath.Glob(filepath.Join(data, "backups", "kaidian-sqlite-*.kdbk"))
	if len(files) != 1 {
		t.Fatalf("backup files: %v", files)
	}
	out.Reset()
	if err := run(ctx, []string{"backup", "verify", files[0], "--backup-key-file", keyFile}, &out, noenv); err != nil || !strings.Contains(out.String(), "good") {
		t.Fatalf("verify: %v %s", err, out.String())
	}
	if err := run(ctx, []string{"backup", "verify", files[0], "--backup-key", backup.NewKey()}, &out, noenv); !errors.Is(err, backup.ErrWrongKey) {
		t.Fatalf("verify with another key: %v", err)
	}
	out.Reset()
	if err := run(ctx, []string{"restore", files[0], "--data", restored, "--backup-key-file", keyFile}, &out, noenv); err != nil || !strings.Contains(out.String(), "restored") {
		t.Fatalf("restore: %v %s", err, out.String())
	}
	if logo, _ := os.ReadFile(filepath.Join(restored, "blobs", "shop", "1", "logo.png")); string(logo) != "a logo" {
		t.Fatalf("the restored file: %q", logo)
	}
	r, _ := db.Open(ctx, filepath.Join(restored, "kaidian.db"))
	defer r.Close()
	var appid string
	if err := r.QueryRow(ctx, `SELECT appid FROM shops`).Scan(&appid); err != nil || appid != "wx-backup-cli" {
		t.Fatalf("restored shop: %q %v", appid, err)
	}
	if err := run(ctx, []string{"restore", files[0], "--data", data, "--backup-key-file", keyFile}, &out, noenv); !errors.Is(err, backup.ErrTargetNotEmpty) {
		t.Fatalf("restore over data: %v", err)
	}
	if err := run(ctx, []string{"backup", "--data", data}, &out, noenv); !errors.Is(err, backup.ErrNoKey) {
		t.Fatalf("backup without a key: %v", err)
	}
	if err := run(ctx, []string{"restore", "--data", data}, &out, noenv); err == nil {
		t.Fatal("restore without a file")
	}
}
