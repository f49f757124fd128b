package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestBenchFlags(t *testing.T) {
	f, err := parseBenchFlags([]string{"--scenarios", "search, bare,search", "--spus", "10"}, &bytes.Buffer{})
	if err != nil || strings.Join(f.scenarios, ",") != "search,bare" || f.spus != 10 || f.clients != 64 || f.skusPerSPU != 5 {
		t.Fatalf("%+v %v", f, err)
	}
	for _, bad := range [][]string{{"--scenarios", "nope"}, {"--scenarios", ","}, {"--clients", "0"}, {"--client", "curl"}, {"extra"}} {
		if _, err := parseBenchFlags(bad, &bytes.Buffer{}); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestBenchSmall runs the whole benchmark on a tiny catalog for a moment.
func TestBenchSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	var out bytes.Buffer
	err := runBench(context.Background(), []string{"--spus", "300", "--shops", "2", "--clients", "4",
		"--duration", "250ms", "--warmup", "50ms", "--json"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Load      struct{ SPUs, SKUs int }
		Scenarios []struct {
			Name     string
			Requests uint64
			Errors   uint64
			Result   string
		}
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if rep.Load.SPUs != 300 || rep.Load.SKUs != 1500 || len(rep.Scenarios) != 4 {
		t.Fatalf("report %+v", rep)
	}
	for _, s := range rep.Scenarios {
		if s.Requests == 0 || s.Errors != 0 || (s.Name != "bare" && s.Result == "") {
			t.Errorf("scenario %+v", s)
		}
	}
}
