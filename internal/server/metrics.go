package server

import (
	"crypto/subtle"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// GaugeTTL is how long the gauges that query the database (jobs, payment
// success) are reused between scrapes: many scrapers, or a fast one, cost
// the database one query set per TTL.
const GaugeTTL = 15 * time.Second

// cachedCollector replays the metrics of inner for ttl after collecting them.
type cachedCollector struct {
	inner prometheus.Collector
	ttl   time.Duration
	now   func() time.Time

	mu      sync.Mutex
	at      time.Time
	metrics []prometheus.Metric
}

func newCachedCollector(inner prometheus.Collector, ttl time.Duration) *cachedCollector {
	return &cachedCollector{inner: inner, ttl: ttl, now: time.Now}
}

func (c *cachedCollector) Describe(ch chan<- *prometheus.Desc) { c.inner.Describe(ch) }

func (c *cachedCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); c.metrics == nil || now.Sub(c.at) >= c.ttl {
		c.metrics = collectAll(c.inner)
		c.at = now
	}
	for _, m := range c.metrics {
		ch <- m
	}
}

func collectAll(col prometheus.Collector) []prometheus.Metric {
	ch := make(chan prometheus.Metric)
	go func() {
		col.Collect(ch)
		close(ch)
	}()
	out := []prometheus.Metric{}
	for m := range ch {
		out = append(out, m)
	}
	return out
}

// metricsHandler serves the registry in Prometheus' text format, to a
// caller with the bearer token when one is configured.
func (s *Server) metricsHandler() http.Handler {
	prom := promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.MetricsToken != "" {
			tok, _ := httpx.BearerToken(r)
			if subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.MetricsToken)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
				httpx.WriteError(w, r, errs.E(errs.Unauthenticated, "metrics_token_required", "send Authorization: Bearer <metrics token>"))
				return
			}
		}
		prom.ServeHTTP(w, r)
	})
}

// metrics is GET /metrics on the main address: the metrics, unless they
// are served on their own address (--metrics-addr).
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.MetricsAddr != "" {
		return errs.E(errs.NotFound, "metrics_elsewhere", "metrics are served on the metrics address, not here")
	}
	s.metricsHandler().ServeHTTP(w, r)
	return nil
}
