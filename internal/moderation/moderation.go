// Package moderation is trust and safety for user content: sensitive-word
// rules (a shared base list, the operator's rules and each shop's own) run
// by the engine package, checks of buyers' submitted text (and, where a
// shop turns it on, WeChat's msg_sec_check), the review queue staff work
// (approve, reject, ban the author), the log of their decisions, and
// copyright complaints with a 24-hour deadline.
//
// Compiled rules live in memory behind an atomic pointer: a change builds
// new engines and swaps them in, so matching never waits. Every rule
// change bumps a version in the database; Run polls the versions so that
// every server process picks up another's change within its interval.
package moderation

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kaidian/kaidian/internal/moderation/engine"
	"github.com/kaidian/kaidian/internal/platform/db"
)

// SecChecker is WeChat's text check (msg_sec_check) for a shop's member:
// suggest is "pass", "review" or "risky". The server implements it.
type SecChecker interface {
	SecCheck(ctx context.Context, shopID, memberID int64, scene int, text string) (suggest string, label int, err error)
}

// Service is the moderation service of one process.
type Service struct {
	db     *db.DB
	wechat SecChecker
	log    *slog.Logger
	// onPublished runs when an item becomes visible (at once or once
	// approved): a published nickname becomes the buyer's nickname.
	onPublished func(ctx context.Context, shopID int64, it Item) error
	purchases   Purchases // reviews are only from buyers

	rules   atomic.Pointer[ruleSet]
	rebuild sync.Mutex // one rebuild at a time
}

// OnPublished sets what runs when an item is published.
func (s *Service) OnPublished(fn func(ctx context.Context, shopID int64, it Item) error) {
	s.onPublished = fn
}

// published runs the hook for an item that is now visible.
func (s *Service) published(ctx context.Context, shopID int64, it Item, err error) (Item, error) {
	if err != nil || it.Status != Published || s.onPublished == nil {
		return it, err
	}
	return it, s.onPublished(ctx, shopID, it)
}

// ruleSet is the compiled rules at some versions. It is immutable.
type ruleSet struct {
	globalVersion int64
	global        *engine.Engine // base and operator rules
	shops         map[int64]shopRules
}

type shopRules struct {
	version int64
	engine  *engine.Engine
}

// NewService returns the service; call Load before use.
func NewService(d *db.DB, wechat SecChecker, log *slog.Logger) *Service {
	s := &Service{db: d, wechat: wechat, log: log}
	empty, _ := engine.Build(nil, nil)
	s.rules.Store(&ruleSet{global: empty, shops: map[int64]shopRules{}})
	return s
}

// Load compiles the rules in the database.
func (s *Service) Load(ctx context.Context) error { return s.Sync(ctx) }

// Run keeps the compiled rules in step with the database until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Sync(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("moderation rules sync failed", "err", err)
			}
		}
	}
}
