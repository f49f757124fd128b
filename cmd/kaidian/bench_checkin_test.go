package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestBenchCheckinSmall runs the check-in benchmark on a few buyers: fewer
// than the requests sent, so later requests check the same buyers in again,
// and the database check still finds one row and one day per buyer.
func TestBenchCheckinSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"bench-checkin", "--users", "50", "--clients", "4", "--duration", "300ms", "--warmup", "100ms"}, &out, noenv)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{"bare ", "checkin ", "check: 50 buyers sent, 50 check-in rows of 50 distinct buyers, 50 days counted"} {
		if !strings.Contains(s, want) {
			t.Fatalf("no %q in:\n%s", want, s)
		}
	}
}
