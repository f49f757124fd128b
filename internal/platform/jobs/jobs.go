// Package jobs is a durable job queue in the database. Jobs survive
// restarts; every server process can run them; a running job's lock is a
// short lease its process keeps renewing, so a job whose process died is
// taken again within a lease; failures are retried with backoff and
// then marked failed. Enqueue inside the caller's transaction so a job exists
// exactly when the change that needs it was committed.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// Job is one unit of work as a handler sees it.
type Job struct {
	ID       int64
	Kind     string
	ShopID   int64
	Payload  json.RawMessage
	Attempts int // including this one
}

// Handler runs a job. Returning an error retries it later (until
// MaxAttempts); handlers must be idempotent, as a job can run twice when a
// process dies between finishing the work and recording it.
type Handler func(ctx context.Context, j Job) error

// Options tune one enqueued job.
type Options struct {
	RunAt       time.Time // zero = now
	ShopID      int64
	UniqueKey   string // while a job with this key is queued or running, another is not added
	MaxAttempts int    // 0 = 10
}

// Queue runs jobs from the jobs table.
type Queue struct {
	db       *db.DB
	log      *slog.Logger
	worker   string
	lease    time.Duration // how long a claim holds without renewal
	maxRun   time.Duration // how long one run of a handler may take
	mu       sync.RWMutex
	handlers map[string]Handler
	every    map[string]time.Duration
	longRun  map[string]time.Duration // kinds allowed longer than maxRun
}

// New returns a queue on d.
func New(d *db.DB, log *slog.Logger) *Queue {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return &Queue{db: d, log: log, worker: hex.EncodeToString(b), lease: 30 * time.Second, maxRun: 5 * time.Minute,
		handlers: map[string]Handler{}, every: map[string]time.Duration{}, longRun: map[string]time.Duration{}}
}

// Handle sets the handler of kind.
func (q *Queue) Handle(kind string, h Handler) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.handlers[kind] = h
}

// Every makes kind run about every interval on one process of the cluster.
func (q *Queue) Every(kind string, interval time.Duration, h Handler) {
	q.Handle(kind, h)
	q.mu.Lock()
	defer q.mu.Unlock()
	q.every[kind] = interval
}

// SetMaxRun lets one run of kind take up to d (a backup of a large
// database) instead of the default five minutes.
func (q *Queue) SetMaxRun(kind string, d time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.longRun[kind] = d
}

func (q *Queue) maxRunOf(kind string) time.Duration {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if d, ok := q.longRun[kind]; ok {
		return d
	}
	return q.maxRun
}

// Enqueue adds a job through x (a *db.DB, or a *db.Tx to commit it with the
// caller's change). It returns the job id, or 0 when UniqueKey matched a
// queued or running job.
func Enqueue(ctx context.Context, x db.Querier, kind string, payload any, o Options) (int64, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return 0, fmt.Errorf("job payload: %w", err)
	}
	now := time.Now()
	if o.RunAt.IsZero() {
		o.RunAt = now
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	var id int64
	err = x.QueryRow(ctx, `INSERT INTO jobs (kind, shop_id, payload, unique_key, max_attempts, run_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND state IN ('queued','running') DO NOTHING
		RETURNING id`, kind, nullable(o.ShopID), string(body), nullableString(o.UniqueKey), o.MaxAttempts,
		o.RunAt.UnixMilli(), now.UnixMilli()).Scan(&id)
	if db.IsNoRows(err) {
		return 0, nil
	}
	return id, err
}

func nullable(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func nullableString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
