package recs

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Catalog is what recs needs of the catalog: product summaries as buyers'
// lists show them, from its in-memory read model.
type Catalog interface {
	// Summaries returns the live products of shopID among ids, in ids'
	// order (deleted, unknown and other shops' ids skipped).
	Summaries(shopID int64, ids []int64) []catalog.Summary
}

// Service builds, stores, loads and serves recommendations.
type Service struct {
	db    *db.DB
	cat   Catalog
	now   func() time.Time
	views *viewLog

	mu       sync.RWMutex
	models   map[int64]*Model
	settings map[int64]cachedSettings
}

type cachedSettings struct {
	s  Settings
	at time.Time
}

// settingsTTL bounds how long another process's settings change takes to
// be seen here.
const settingsTTL = 5 * time.Second

// NewService returns a service with no model loaded (Load or Sync does).
func NewService(d *db.DB, cat Catalog) *Service {
	return &Service{db: d, cat: cat, now: time.Now, views: newViewLog(),
		models: map[int64]*Model{}, settings: map[int64]cachedSettings{}}
}

// Model returns the loaded model of shopID, or nil.
func (s *Service) Model(shopID int64) *Model {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.models[shopID]
}

func (s *Service) install(shopID int64, m *Model) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.models[shopID]; cur == nil || cur.BuiltAt <= m.BuiltAt {
		s.models[shopID] = m
	}
}

// paidStatuses are the orders learned from: paid and not (fully) refunded
// or cancelled.
const paidStatuses = `('paid','shipped','completed')`

// Rebuild learns shopID's model from its paid orders, stores it and
// installs it here. Other processes load it on their next Sync.
func (s *Service) Rebuild(ctx context.Context, shopID int64) (*Model, error) {
	st, err := s.Settings(ctx, shopID)
	if err != nil {
		return nil, err
	}
	cats, err := s.categories(ctx, shopID)
	if err != nil {
		return nil, err
	}
	lines, err := s.lines(ctx, shopID)
	if err != nil {
		return nil, err
	}
	m := Build(lines, cats, st.params(s.now()))
	_, err = s.db.Exec(ctx, `INSERT INTO recs_models (shop_id, built_at, lines, data) VALUES (?, ?, ?, ?)
		ON CONFLICT (shop_id) DO UPDATE SET built_at = excluded.built_at, lines = excluded.lines, data = excluded.data`,
		shopID, m.BuiltAt, m.Lines, m.Encode())
	if err != nil {
		return nil, errs.Wrap("store recommendations", err)
	}
	s.install(shopID, m)
	return m, nil
}

func (st Settings) params(now time.Time) Params {
	return Params{HalfLife: time.Duration(st.HalfLifeDays) * 24 * time.Hour, Keep: 3*int(st.TopK) + 10, Now: now.UnixMilli()}
}

// categories maps the shop's live products to their categories.
func (s *Service) categories(ctx context.Context, shopID int64) (map[int64]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT id, category_id FROM spus WHERE shop_id = ? AND deleted_at IS NULL`, shopID)
	if err != nil {
		return nil, errs.Wrap("recs categories", err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var id, cat int64
		if err := rows.Scan(&id, &cat); err != nil {
			return nil, errs.Wrap("recs categories", err)
		}
		out[id] = cat
	}
	return out, errs.Wrap("recs categories", rows.Err())
}

// lines reads every line of the shop's paid orders.
func (s *Service) lines(ctx context.Context, shopID int64) ([]Line, error) {
	rows, err := s.db.Query(ctx, `SELECT o.id, o.member_id, l.spu_id, COALESCE(o.paid_at, o.created_at)
		FROM orders o JOIN order_lines l ON l.order_id = o.id
		WHERE o.shop_id = ? AND o.status IN `+paidStatuses, shopID)
	if err != nil {
		return nil, errs.Wrap("recs lines", err)
	}
	defer rows.Close()
	var out []Line
	for rows.Next() {
		var l Line
		if err := rows.Scan(&l.OrderID, &l.MemberID, &l.SPU, &l.At); err != nil {
			return nil, errs.Wrap("recs lines", err)
		}
		out = append(out, l)
	}
	return out, errs.Wrap("recs lines", rows.Err())
}

// RebuildAll rebuilds the model of every enabled shop.
func (s *Service) RebuildAll(ctx context.Context) error {
	ids, err := db.All(ctx, s.db, func(r db.Scanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, `SELECT id FROM shops ORDER BY id`)
	if err != nil {
		return errs.Wrap("recs shops", err)
	}
	for _, id := range ids {
		st, err := s.Settings(ctx, id)
		if err != nil {
			return err
		}
		if !st.Enabled {
			continue
		}
		if _, err := s.Rebuild(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// Sync loads every stored model newer than the one in memory: how each
// process gets the models the cluster's job built.
func (s *Service) Sync(ctx context.Context) error {
	type stamp struct{ shop, built int64 }
	stamps, err := db.All(ctx, s.db, func(r db.Scanner) (stamp, error) {
		var st stamp
		return st, r.Scan(&st.shop, &st.built)
	}, `SELECT shop_id, built_at FROM recs_models`)
	if err != nil {
		return errs.Wrap("recs sync", err)
	}
	for _, st := range stamps {
		if cur := s.Model(st.shop); cur != nil && cur.BuiltAt >= st.built {
			continue
		}
		var data []byte
		if err := s.db.QueryRow(ctx, `SELECT data FROM recs_models WHERE shop_id = ?`, st.shop).Scan(&data); err != nil {
			return errs.Wrap("recs load", err)
		}
		m, err := Decode(data)
		if err != nil {
			return errs.Wrap("recs decode", err)
		}
		s.install(st.shop, m)
	}
	return nil
}

// Run keeps this process's models in step with the stored ones and
// flushes recorded views, until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = s.FlushViews(flushCtx)
			cancel()
			return
		case <-t.C:
		}
		if err := s.FlushViews(ctx); err != nil && ctx.Err() == nil {
			log.Warn("recs: flush views", "err", err)
		}
		if err := s.Sync(ctx); err != nil && ctx.Err() == nil {
			log.Warn("recs: sync", "err", err)
		}
	}
}

// History returns what a rebuild of shopID learns from: its paid orders'
// lines and its live products' categories (for kaidian recs-eval).
func (s *Service) History(ctx context.Context, shopID int64) ([]Line, map[int64]int64, error) {
	cats, err := s.categories(ctx, shopID)
	if err != nil {
		return nil, nil, err
	}
	lines, err := s.lines(ctx, shopID)
	return lines, cats, err
}
