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
