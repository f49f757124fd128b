package server

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kaidian/kaidian/internal/payment"
	"github.com/kaidian/kaidian/internal/platform/jobs"
)

// registerJobs sets the handlers of the platform's own periodic jobs.
func (s *Server) registerJobs() {
	s.Jobs.Every("maintenance.sweep", 10*time.Minute, func(ctx context.Context, _ jobs.Job) error {
		if _, err := s.Sessions.Sweep(ctx); err != nil {
			return err
		}
		if _, err := s.Limiter.Sweep(ctx, time.Now().Add(-24*time.Hour)); err != nil {
			return err
		}
		if _, err := s.Accounts.SweepLoginThrottle(ctx); err != nil {
			return err
		}
		_, err := s.Jobs.Purge(ctx, time.Now().Add(-7*24*time.Hour))
		return err
	})
}

// jobsCollector exports the queue depth (jobs by kind and state) at scrape time.
type jobsCollector struct {
	q    *jobs.Queue
	desc *prometheus.Desc
}

func newJobsCollector(q *jobs.Queue) *jobsCollector {
	return &jobsCollector{q: q, desc: prometheus.NewDesc("kaidian_jobs",
		"Jobs not yet done, by kind and state (queued, running, failed).", []string{"kind", "state"}, nil)}
}

func (c *jobsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *jobsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.q.Counts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for key, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), key[0], key[1])
	}
}

// paymentCollector exports today's payment attempts, successes and success
// rate per shop (the target rate is at least 0.98).
type paymentCollector struct {
	s                     *payment.Service
	attempts, paid, ratio *prometheus.Desc
}

func newPaymentCollector(s *payment.Service) *paymentCollector {
	labels := []string{"shop"}
	return &paymentCollector{s: s,
		attempts: prometheus.NewDesc("kaidian_payment_attempts_today", "Orders that asked WeChat Pay to pay today (China time).", labels, nil),
		paid:     prometheus.NewDesc("kaidian_payments_paid_today", "Of those, paid.", labels, nil),
		ratio:    prometheus.NewDesc("kaidian_payment_success_ratio_today", "Paid / attempts today; the target is at least 0.98.", labels, nil)}
}

func (c *paymentCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.attempts
	ch <- c.paid
	ch <- c.ratio
}

func (c *paymentCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	today, err := c.s.Today(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.attempts, err)
		return
	}
	for shop, d := range today {
		id := strconv.FormatInt(shop, 10)
		ch <- prometheus.MustNewConstMetric(c.attempts, prometheus.GaugeValue, float64(d.Attempts), id)
		ch <- prometheus.MustNewConstMetric(c.paid, prometheus.GaugeValue, float64(d.Paid), id)
		ch <- prometheus.MustNewConstMetric(c.ratio, prometheus.GaugeValue, d.Rate, id)
	}
}
