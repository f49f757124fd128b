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
	if err != nil || strings.Join(f.scenarios, ",") != "search,bare" || f.spus != 10 || f.clients != 64 || f.clientsSet || f.skusPerSPU != 5 {
		t.Fatalf("%+v %v", f, err)
	}
	if f, err := parseBenchFlags([]string{"--clients", "64", "--scenarios", "orders"}, &bytes.Buffer{}); err != nil || !f.clientsSet {
		t.Errorf("--clients 64: %+v %v", f, err)
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

// TestBenchOrders runs the orders scenario on a tiny catalog for a moment,
// with both load generator clients, and checks the database check passed.
func TestBenchOrders(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	for _, client := range []string{"net/http", "raw"} {
		var out bytes.Buffer
		// Few clients and a full second, so that even under -race on a
		// busy machine requests finish inside the measured window.
		err := runBench(context.Background(), []string{"--spus", "300", "--shops", "2", "--scenarios", "orders", "--client", client,
			"--clients", "8", "--duration", "1s", "--warmup", "100ms", "--json"}, &out)
		if err != nil {
			t.Fatal(err)
		}
		var rep struct {
			Scenarios []struct {
				Name, Consistency string
				Clients           int
				Requests, Errors  uint64
				ConsistencyOK     *bool `json:"consistency_ok"`
				Result            string
			}
		}
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		if len(rep.Scenarios) != 1 {
			t.Fatalf("report %s", out.String())
		}
		s := rep.Scenarios[0]
		if s.Name != "orders" || s.Clients != 8 || s.Requests == 0 || s.Errors != 0 || s.Result == "" ||
			s.ConsistencyOK == nil || !*s.ConsistencyOK {
			t.Errorf("%s: scenario %+v", client, s)
		}
	}
}

// TestBenchOrdersAnchor runs orders with its anchor, orders-1tx: both write
// orders the database check accounts for, and orders is reported as a share
// of the anchor.
func TestBenchOrdersAnchor(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	var out bytes.Buffer
	err := runBench(context.Background(), []string{"--spus", "300", "--scenarios", "orders-1tx,orders",
		"--clients", "8", "--duration", "1s", "--warmup", "100ms", "--json"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Scenarios []struct {
			Name, Anchor     string
			Requests, Errors uint64
			AnchorRatio      float64 `json:"ratio_to_anchor"`
			ConsistencyOK    *bool   `json:"consistency_ok"`
		}
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(rep.Scenarios) != 2 {
		t.Fatalf("report %s", out.String())
	}
	for _, s := range rep.Scenarios {
		if s.Requests == 0 || s.Errors != 0 || s.ConsistencyOK == nil || !*s.ConsistencyOK {
			t.Errorf("scenario %+v", s)
		}
	}
	if o := rep.Scenarios[1]; o.Name != "orders" || o.Anchor != "orders-1tx" || o.AnchorRatio <= 0 {
		t.Errorf("orders: %+v, want a share of orders-1tx", o)
	}
}

// TestBenchOrdersDuringBackups: orders-backup places orders while the
// database is backed up for the whole window, is measured against orders,
// passes the orders' database check, and reports the backups and the
// restore of the last one.
func TestBenchOrdersDuringBackups(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	var out bytes.Buffer
	err := runBench(context.Background(), []string{"--spus", "300", "--scenarios", "orders,orders-backup",
		"--clients", "8", "--duration", "1s", "--warmup", "100ms", "--json"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Scenarios []struct {
			Name, Anchor, Result string
			Requests, Errors     uint64
			AnchorRatio          float64 `json:"ratio_to_anchor"`
			ConsistencyOK        *bool   `json:"consistency_ok"`
		}
		Backup *struct {
			Backups        int
			Rows           int64
			FileBytes      int64   `json:"file_bytes"`
			RestoreSeconds float64 `json:"restore_seconds"`
			DatabaseBytes  int64   `json:"database_bytes"`
		}
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(rep.Scenarios) != 2 || rep.Backup == nil {
		t.Fatalf("report %s", out.String())
	}
	o := rep.Scenarios[1]
	if o.Name != "orders-backup" || o.Anchor != "orders" || o.AnchorRatio <= 0 || o.Requests == 0 || o.Errors != 0 ||
		o.ConsistencyOK == nil || !*o.ConsistencyOK || o.Result == "" {
		t.Errorf("orders-backup: %+v", o)
	}
	if b := rep.Backup; b.Backups < 1 || b.Rows == 0 || b.FileBytes == 0 || b.RestoreSeconds <= 0 || b.DatabaseBytes == 0 {
		t.Errorf("backups: %+v", b)
	}
}
