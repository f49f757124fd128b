package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// TestRecsEval runs the evaluation on a small generated history: the
// planted structure must beat popularity, and both figures are printed.
func TestRecsEval(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"recs-eval", "--users", "3000", "--products", "500", "--lines", "30000", "--reads", "200"}, &out, noenv)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"co-occurrence ", "popularity baseline", "beats the popularity baseline", "build over", "p99"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "does NOT beat") {
		t.Fatalf("co-occurrence lost to popularity on planted structure:\n%s", out.String())
	}
}

// TestRecsEvalFromDatabase reads a shop's (empty) history from a database.
func TestRecsEvalFromDatabase(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"recs-eval", "--dsn", db.TestDSN(t, db.SQLite), "--reads", "0"}, &out, noenv); err == nil {
		t.Fatal("--dsn without --shop accepted")
	}
	out.Reset()
	if err := run(context.Background(), []string{"recs-eval", "--dsn", db.TestDSN(t, db.SQLite), "--shop", "1", "--reads", "0"}, &out, noenv); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "shop 1's paid orders") {
		t.Fatalf("output:\n%s", out.String())
	}
}
