package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestParsePaidPath(t *testing.T) {
	out := []byte(`goos: linux
BenchmarkPaidPath/sqlite-2         	     100	   5000000 ns/op	       180.0 paid/s	         0.6000 ratio-to-ceiling	      1200 rsa-sign/s
BenchmarkPaidPath/postgres-2       	     100	   9000000 ns/op	        75.0 paid/s	         0.2500 ratio-to-ceiling	      1200 rsa-sign/s
PASS
`)
	rows := parsePaidPath(out)
	if len(rows) != 2 || rows[0].Engine != "sqlite" || rows[0].RPS != 180 || rows[0].AnchorRPS != 300 || rows[0].Result != "PASS" ||
		rows[1].Engine != "postgres" || rows[1].RPS != 75 || rows[1].Result != "MISS" {
		t.Fatalf("rows %+v", rows)
	}
	var b bytes.Buffer
	writeBenchAll(&b, rows)
	if !strings.Contains(b.String(), "0.600") || !strings.Contains(b.String(), "0.250") {
		t.Fatalf("table:\n%s", b.String())
	}
}

func TestFlashAndGroupRows(t *testing.T) {
	rows := flashRows(flashReport{Engine: "sqlite",
		EngineRun: &flashRun{PerSecond: 120_000, CheckOK: true}, Baseline: &flashRun{PerSecond: 2_000, CheckOK: true},
		HTTP: &flashRun{PerSecond: 600, CheckOK: true}, Bare: &flashRun{PerSecond: 1_000, CheckOK: true}})
	if len(rows) != 2 || rows[0].Path != "flash engine" || rows[0].Result != "PASS" || rows[0].AnchorRPS != 2_000 ||
		rows[1].Path != "flash claim HTTP" || rows[1].Result != "MISS" {
		t.Fatalf("rows %+v", rows)
	}
	// PostgreSQL's engine goal is lower; a failed check outranks the figure.
	rows = flashRows(flashReport{Engine: "postgres", EngineRun: &flashRun{PerSecond: 60_000, CheckOK: true},
		Baseline: &flashRun{PerSecond: 1_000, CheckOK: true}, Processes: 2,
		ProcessesRun: &flashRun{PerSecond: 900, CheckOK: false}, Healthz: &flashRun{PerSecond: 1_000, CheckOK: true}})
	if len(rows) != 2 || rows[0].Result != "PASS" || rows[1].Path != "flash claim HTTP, 2 processes" || rows[1].Result != "CHECK FAILED" {
		t.Fatalf("rows %+v", rows)
	}
	g := groupsRow(groupsReport{Engine: "sqlite", Groups: 10_000, Refunds: 30_000, Seconds: 75, CheckOK: true})
	if g.RPS != 400 || g.Result != "MISS (75.0 s)" {
		t.Fatalf("row %+v", g)
	}
	if g = groupsRow(groupsReport{Engine: "sqlite", Groups: 10, Refunds: 30, Seconds: 2, CheckOK: true}); g.Result != "PASS (2.0 s)" {
		t.Fatalf("row %+v", g)
	}
}
