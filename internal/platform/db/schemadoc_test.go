package db_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// TestSchemaDocIsCurrent: docs/database.md is what the migrations give
// (KAIDIAN_UPDATE_DOCS=1 rewrites it): a handover document that cannot
// drift from the schema.
func TestSchemaDocIsCurrent(t *testing.T) {
	const path = "../../../docs/database.md"
	d := db.OpenTest(t, db.SQLite)
	doc, err := db.SchemaDoc(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## orders", "## backup_runs", "Created by `0083_support_tickets.sql`", "`shop_id` → [shops](#shops).`id`"} {
		if !strings.Contains(doc, want) {
			t.Fatalf("the document lacks %q", want)
		}
	}
	if os.Getenv("KAIDIAN_UPDATE_DOCS") != "" {
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != doc {
		t.Fatalf("docs/database.md is not what the migrations give (%v): run KAIDIAN_UPDATE_DOCS=1 go test ./internal/platform/db -run TestSchemaDocIsCurrent and commit it", err)
	}
}
