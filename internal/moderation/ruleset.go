package moderation

import (
	"cmp"
	"context"
	"slices"
	"strconv"

	"github.com/kaidian/kaidian/internal/moderation/engine"
)

// Sync rebuilds the engines whose scope changed since the last sync and
// swaps them in. Matching goes on with the old engines meanwhile.
func (s *Service) Sync(ctx context.Context) error {
	s.rebuild.Lock()
	defer s.rebuild.Unlock()
	versions, err := s.versions(ctx)
	if err != nil {
		return err
	}
	cur := s.rules.Load()
	next := &ruleSet{globalVersion: cur.globalVersion, global: cur.global, shops: make(map[int64]shopRules, len(versions))}
	if v := versions[0]; v != cur.globalVersion {
		e, err := s.compile(ctx, `scope IN ('base', 'operator')`)
		if err != nil {
			return err
		}
		next.global, next.globalVersion = e, v
	}
	for key, v := range versions {
		if key == 0 {
			continue
		}
		if old, ok := cur.shops[key]; ok && old.version == v {
			next.shops[key] = old
			continue
		}
		e, err := s.compile(ctx, `scope = 'shop' AND scope_key = ?`, key)
		if err != nil {
			return err
		}
		next.shops[key] = shopRules{version: v, engine: e}
	}
	s.rules.Store(next)
	return nil
}

// syncNow applies this process's own change at once; Run would pick it up
// within its interval anyway.
func (s *Service) syncNow(ctx context.Context) {
	if err := s.Sync(ctx); err != nil {
		s.log.Warn("moderation rules sync failed", "err", err)
	}
}

func (s *Service) versions(ctx context.Context) (map[int64]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT scope_key, version FROM moderation_versions`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var k, v int64
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

func (s *Service) compile(ctx context.Context, where string, args ...any) (*engine.Engine, error) {
	rules, err := s.loadRules(ctx, where, args...)
	if err != nil {
		return nil, err
	}
	return engine.Build(rules, nil)
}

// Check is the engines' verdict on text for a shop: the shared rules and
// the shop's own, the shop's allow-list applying to both.
func (s *Service) Check(shopID int64, text string) (string, []engine.Match) {
	rs := s.rules.Load()
	ms := rs.global.Find(text)
	if sh, ok := rs.shops[shopID]; ok {
		ms = append(engine.Suppress(ms, sh.engine.AllowSpans(text)), sh.engine.Find(text)...)
		slices.SortStableFunc(ms, func(a, b engine.Match) int {
			return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End))
		})
	}
	return verdictOf(ms), ms
}

// verdictOf is block if any match blocks, review if any match, else pass.
func verdictOf(ms []engine.Match) string {
	v := engine.VerdictPass
	for _, m := range ms {
		if m.Rule.Level == engine.LevelBlock {
			return engine.VerdictBlock
		}
		v = engine.VerdictReview
	}
	return v
}

// RulesFor returns the rules that apply to a shop (the shared ones when
// shopID is 0), for the moderate command.
func (s *Service) RulesFor(ctx context.Context, shopID int64) ([]engine.Rule, error) {
	return s.loadRules(ctx, `scope IN ('base', 'operator') OR (scope = 'shop' AND scope_key = ?)`, shopID)
}

// CheckStaffText refuses staff-written text (product titles and
// descriptions) that a block rule matches, with 422 content_blocked. Text
// that review rules match is let through: products have no review queue.
func (s *Service) CheckStaffText(shopID int64, text string) (hold bool, err error) {
	v, ms := s.Check(shopID, text)
	if v == engine.VerdictBlock {
		return false, blocked(ms)
	}
	return v == engine.VerdictReview, nil
}

// HoldProduct puts a product's text in the review queue (the catalog keeps
// the product off the shelf until the item is approved).
func (s *Service) HoldProduct(ctx context.Context, shopID, productID int64, text string) error {
	_, ms := s.Check(shopID, text)
	_, err := s.insertItem(ctx, shopID, 0, NewItem{Kind: "product", Target: "product:" + strconv.FormatInt(productID, 10), Text: text},
		Pending, string(engine.VerdictReview), ms, "")
	return err
}
