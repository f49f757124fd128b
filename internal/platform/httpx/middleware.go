package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type logKey struct{}

// Logger returns the request-scoped logger (with the request id), or a
// logger that discards when ctx has none.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(logKey{}).(*slog.Logger); ok {
		return l
	}
	return logDiscard
}

// Metrics are the HTTP series: requests by route and status, and latency.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics registers the HTTP series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kaidian_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kaidian_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Middleware wraps the mux: request id, a request-scoped logger, panic
// recovery, security headers, an access log line and the metrics. Requests
// slower than slow, or failing with 5xx, are logged at Warn/Error; the rest at Debug.
func Middleware(next http.Handler, base *slog.Logger, m *Metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestID(r)
		logger := base.With("request_id", id)
		w.Header().Set("X-Request-Id", id)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), logKey{}, logger))
		defer func() {
			if p := recover(); p != nil {
				logger.Error("panic", "panic", fmt.Sprint(p), "path", r.URL.Path)
				if sw.status == 0 {
					WriteJSON(sw, http.StatusInternalServerError, ErrorBody{Code: "internal", Message: "internal error"})
				}
			}
			observe(logger, m, r, sw.status, time.Since(start))
		}()
		next.ServeHTTP(sw, r)
	})
}

func observe(logger *slog.Logger, m *Metrics, r *http.Request, status int, took time.Duration) {
	if status == 0 {
		status = http.StatusOK
	}
	route := r.Pattern
	if route == "" {
		route = "unmatched"
	}
	if m != nil {
		m.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
		m.latency.WithLabelValues(route, r.Method).Observe(took.Seconds())
	}
	level := slog.LevelDebug
	switch {
	case status >= 500:
		level = slog.LevelError
	case took > time.Second:
		level = slog.LevelWarn
	case status >= 400:
		level = slog.LevelInfo
	}
	if logger.Enabled(r.Context(), level) {
		logger.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path,
			"route", route, "status", status, "ms", float64(took.Microseconds())/1000)
	}
}

// requestID keeps a caller's X-Request-Id when it is short and printable,
// otherwise makes a new one.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 64 && printable(id) {
		return id
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// Hardening configures Harden.
type Hardening struct {
	// TrustProxy takes the load balancer's X-Forwarded-Proto: https as TLS.
	TrustProxy bool
	// NoStore lists path prefixes whose answers must not be cached (they
	// carry personal data): Cache-Control: no-store.
	NoStore []string
}

// HSTS is the Strict-Transport-Security value sent over HTTPS.
const HSTS = "max-age=31536000; includeSubDomains"

// Harden checks the text of every request once, at the edge (path, query
// and headers; JSON bodies are checked by Decode), and adds the transport
// headers: HSTS over HTTPS, no-store on personal answers.
func Harden(next http.Handler, h Hardening) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil || (h.TrustProxy && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")) {
			w.Header().Set("Strict-Transport-Security", HSTS)
		}
		for _, prefix := range h.NoStore {
			if strings.HasPrefix(r.URL.Path, prefix) {
				w.Header().Set("Cache-Control", "no-store")
				break
			}
		}
		if err := CheckRequestText(r); err != nil {
			WriteError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}
