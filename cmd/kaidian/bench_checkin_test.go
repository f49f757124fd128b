package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
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
	for _, want := range []string{"bare ", "checkin "} {
		if !strings.Contains(s, want) {
			t.Fatalf("no %q in:\n%s", want, s)
		}
	}
	// Every check-in sent is one row of a distinct buyer and one day
	// counted; how many were sent in 300 ms depends on the machine's load
	// (at most the 50 buyers, each once).
	m := regexp.MustCompile(`check: (\d+) buyers sent, (\d+) check-in rows of (\d+) distinct buyers, (\d+) days counted`).FindStringSubmatch(s)
	if m == nil || m[1] != m[2] || m[1] != m[3] || m[1] != m[4] || m[1] == "0" {
		t.Fatalf("check-ins sent, rows, buyers and days differ (or none was sent):\n%s", s)
	}
	if n, _ := strconv.Atoi(m[1]); n > 50 {
		t.Fatalf("%d check-ins of 50 buyers:\n%s", n, s)
	}
}
