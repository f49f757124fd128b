package server

import (
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// countingCollector is a gauge whose value is how often it was collected.
type countingCollector struct {
	desc  *prometheus.Desc
	calls int
}

func (c *countingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *countingCollector) Collect(ch chan<- prometheus.Metric) {
	c.calls++
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(c.calls))
}

// Scrapes within GaugeTTL reuse the last values: the database is queried
// once per TTL however often /metrics is scraped.
func TestDatabaseGaugesAreCached(t *testing.T) {
	inner := &countingCollector{desc: prometheus.NewDesc("test_collections", "how often collected", nil, nil)}
	clock := time.Unix(1_800_000_000, 0)
	c := newCachedCollector(inner, GaugeTTL)
	c.now = func() time.Time { return clock }
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	scrape := func() float64 {
		t.Helper()
		families, err := reg.Gather()
		if err != nil || len(families) != 1 {
			t.Fatalf("gather: %v %v", families, err)
		}
		return families[0].GetMetric()[0].GetGauge().GetValue()
	}
	for range 5 {
		if v := scrape(); v != 1 {
			t.Fatalf("within the TTL: value %v", v)
		}
		clock = clock.Add(GaugeTTL / 10)
	}
	if inner.calls != 1 {
		t.Fatalf("%d collections for 5 scrapes within %v", inner.calls, GaugeTTL)
	}
	clock = clock.Add(GaugeTTL)
	if v := scrape(); v != 2 || inner.calls != 2 {
		t.Fatalf("after the TTL: value %v, %d collections", v, inner.calls)
	}
}

// The listener holds at most n connections open: the next Accept waits
// until one closes, and a connection closed twice frees one slot.
func TestConnectionCap(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	ln := limitConns(inner, 2).(*limitListener)
	for range 3 {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	first, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ln.Accept(); err != nil {
		t.Fatal(err)
	}
	if len(ln.slots) != cap(ln.slots) {
		t.Fatalf("%d of %d slots taken with 2 open connections", len(ln.slots), cap(ln.slots))
	}
	third := make(chan net.Conn)
	go func() {
		c, _ := ln.Accept()
		third <- c
	}()
	first.Close()
	first.Close()
	c := <-third // accepted only once first gave its slot back
	if c == nil || len(ln.slots) != 2 {
		t.Fatalf("third connection %v, %d slots taken", c, len(ln.slots))
	}
	c.Close()
}
