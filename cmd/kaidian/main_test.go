package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/db"
)

func noenv(string) string { return "" }

func TestVersionHelpAndUnknown(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, noenv); err != nil || !strings.HasPrefix(out.String(), "kaidian ") {
		t.Fatalf("version: %q %v", out.String(), err)
	}
	out.Reset()
	if err := run(context.Background(), nil, &out, noenv); err != nil || !strings.Contains(out.String(), "KAIDIAN_DB") {
		t.Fatalf("usage: %v", err)
	}
	if err := run(context.Background(), []string{"frobnicate"}, &out, noenv); err == nil {
		t.Fatal("an unknown command succeeded")
	}
}

func TestMigrateTwice(t *testing.T) {
	data := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "--data", data}, &out, noenv); err != nil {
		t.Fatal(err)
	}
	all, _ := db.Migrations(db.SQLite)
	if !strings.Contains(out.String(), fmt.Sprintf("applied %d migration(s)", len(all))) {
		t.Fatalf("first migrate: %s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"migrate", "--data", data}, &out, noenv); err != nil || !strings.Contains(out.String(), "applied 0 migration(s)") {
		t.Fatalf("second migrate: %s %v", out.String(), err)
	}
}
