package recs

import (
	"context"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
)

// Settings are a shop's recommendation knobs.
type Settings struct {
	Enabled           bool  `json:"enabled" doc:"off: the recommendation routes answer empty lists and the job skips the shop"`
	HalfLifeDays      int64 `json:"half_life_days" doc:"a purchase this many days old counts half (1 to 3650, default 90)"`
	TopK              int64 `json:"top_k" doc:"recommendations per answer (1 to 50, default 10)"`
	ExcludeBoughtDays int64 `json:"exclude_bought_days" doc:"products the buyer bought this many days back are not recommended to them, unless people buy them again and again (0 to 365, default 30; 0 = no exclusion)"`
}

// DefaultSettings are those of a shop that set none.
var DefaultSettings = Settings{Enabled: true, HalfLifeDays: 90, TopK: 10, ExcludeBoughtDays: 30}

// Settings returns shopID's settings (cached for a few seconds).
func (s *Service) Settings(ctx context.Context, shopID int64) (Settings, error) {
	s.mu.RLock()
	c, ok := s.settings[shopID]
	s.mu.RUnlock()
	if ok && s.now().Sub(c.at) < settingsTTL {
		return c.s, nil
	}
	st := DefaultSettings
	err := s.db.QueryRow(ctx, `SELECT enabled, half_life_days, top_k, exclude_bought_days FROM recs_settings WHERE shop_id = ?`,
		shopID).Scan(&st.Enabled, &st.HalfLifeDays, &st.TopK, &st.ExcludeBoughtDays)
	if err != nil && !db.IsNoRows(err) {
		return Settings{}, errs.Wrap("recs settings", err)
	}
	if db.IsNoRows(err) {
		st = DefaultSettings
	}
	s.mu.Lock()
	s.settings[shopID] = cachedSettings{s: st, at: s.now()}
	s.mu.Unlock()
	return st, nil
}

func (in Settings) validate() error {
	var v errs.Validator
	v.Check(in.HalfLifeDays >= 1 && in.HalfLifeDays <= 3650, "half_life_days", "must be 1 to 3650")
	v.Check(in.TopK >= 1 && in.TopK <= 50, "top_k", "must be 1 to 50")
	v.Check(in.ExcludeBoughtDays >= 0 && in.ExcludeBoughtDays <= 365, "exclude_bought_days", "must be 0 to 365")
	return v.Err()
}

// RebuildKind is the job that rebuilds one shop's model after its settings
// changed (the periodic RebuildAllKind rebuilds every shop).
const (
	RebuildKind    = "recs.rebuild_shop"
	RebuildAllKind = "recs.rebuild"
)

// SetSettings replaces shopID's settings and queues a rebuild of its model
// with them (in the same transaction).
func (s *Service) SetSettings(ctx context.Context, shopID int64, in Settings) (Settings, error) {
	if err := in.validate(); err != nil {
		return Settings{}, err
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO recs_settings (shop_id, enabled, half_life_days, top_k, exclude_bought_days, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (shop_id) DO UPDATE SET enabled = excluded.enabled,
			half_life_days = excluded.half_life_days, top_k = excluded.top_k,
			exclude_bought_days = excluded.exclude_bought_days, updated_at = excluded.updated_at`,
			shopID, in.Enabled, in.HalfLifeDays, in.TopK, in.ExcludeBoughtDays, db.Now())
		if err != nil {
			return err
		}
		if !in.Enabled {
			return nil
		}
		_, err = jobs.Enqueue(ctx, tx, RebuildKind, rebuildPayload{ShopID: shopID},
			jobs.Options{ShopID: shopID, UniqueKey: RebuildKind + ":" + itoa(shopID)})
		return err
	})
	if err != nil {
		return Settings{}, errs.Wrap("recs settings", err)
	}
	s.mu.Lock()
	delete(s.settings, shopID)
	s.mu.Unlock()
	return s.Settings(ctx, shopID)
}

type rebuildPayload struct {
	ShopID int64 `json:"shop_id"`
}

// EnsureBuilt queues a rebuild of every shop now when no model is stored
// yet (a new installation, or one upgraded to this version), rather than
// waiting for the first periodic run an interval after start.
func (s *Service) EnsureBuilt(ctx context.Context) error {
	var n int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM recs_models`).Scan(&n); err != nil {
		return errs.Wrap("recs models", err)
	}
	if n > 0 {
		return nil
	}
	_, err := jobs.Enqueue(ctx, s.db, RebuildAllKind, struct{}{}, jobs.Options{UniqueKey: RebuildAllKind + ":first"})
	return errs.Wrap("recs first build", err)
}
