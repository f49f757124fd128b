package privacy

import (
	"context"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// DefaultAnalyticsDays is how long raw analytics events are kept unless
// the shop says otherwise (the figures built from them stay).
const DefaultAnalyticsDays = 180

// pruneBatch is how many rows one pruning statement deletes.
const pruneBatch = 5000

// retained is one kind of data that is pruned: what it is, how long it
// stays, and the statements deleting a batch of rows older than a cutoff
// (in milliseconds) for a shop.
type retained struct {
	kind, note string
	days       func(analyticsDays int) int
	prune      []string // each takes shop, cutoff, limit
}

var retainedKinds = []retained{
	{kind: "analytics_events", note: "raw events of the mini program and the server; funnels and retention read them",
		days:  func(a int) int { return a },
		prune: []string{`DELETE FROM analytics_events WHERE id IN (SELECT id FROM analytics_events WHERE shop_id = ? AND received_at < ? ORDER BY id LIMIT ?)`}},
	{kind: "message_attempts", note: "each try to send a message and WeChat's or the SMS provider's answer",
		days:  func(int) int { return 90 },
		prune: []string{`DELETE FROM message_attempts WHERE id IN (SELECT id FROM message_attempts WHERE shop_id = ? AND created_at < ? ORDER BY id LIMIT ?)`}},
	{kind: "messages", note: "messages sent or given up on, and the inbox (站内信); pending ones stay",
		days: func(int) int { return 365 },
		prune: []string{
			`DELETE FROM message_attempts WHERE message_id IN (SELECT id FROM messages WHERE shop_id = ? AND created_at < ? AND state IN ('sent','dead') ORDER BY id LIMIT ?)`,
			`DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE shop_id = ? AND created_at < ? AND state IN ('sent','dead') ORDER BY id LIMIT ?)`}},
}

// RetentionItem is one kind of data, how long it stays and its last pruning.
type RetentionItem struct {
	Kind        string     `json:"kind"`
	KeepDays    int        `json:"keep_days" doc:"0: kept for the period the note gives"`
	Note        string     `json:"note"`
	LastRunAt   *time.Time `json:"last_run_at" doc:"the last pruning (daily); null before the first"`
	LastDeleted int64      `json:"last_deleted" doc:"rows it deleted"`
}

// Retention is the shop's retention schedule.
type Retention struct {
	AnalyticsEventsDays int             `json:"analytics_events_days" doc:"raw analytics events kept, 30 to 1095 days (default 180)"`
	Items               []RetentionItem `json:"items" doc:"read-only: every kind pruned, and what is kept on purpose"`
}

// kept are kinds staff should know are kept, not pruned here.
func (s *Service) kept() []RetentionItem {
	return []RetentionItem{
		{Kind: "audit_log", KeepDays: s.auditDays, Note: "the staff audit log (the deployment's setting, at least 180 days)"},
		{Kind: "orders_and_invoices", Note: "orders, payments, refunds and invoices, also of deleted accounts (anonymised): kept as accounting records (30 years, 会计档案管理办法)"},
	}
}

// SetAuditDays tells the schedule how long the audit log is kept.
func (s *Service) SetAuditDays(days int) { s.auditDays = days }

func (s *Service) analyticsDays(ctx context.Context, q db.Querier, shopID int64) (int, error) {
	days := DefaultAnalyticsDays
	err := q.QueryRow(ctx, `SELECT analytics_days FROM retention_settings WHERE shop_id = ?`, shopID).Scan(&days)
	if err != nil && !db.IsNoRows(err) {
		return 0, errs.Wrap("read retention", err)
	}
	return days, nil
}

// Retention returns the shop's schedule with the last runs.
func (s *Service) Retention(ctx context.Context, shopID int64) (Retention, error) {
	days, err := s.analyticsDays(ctx, s.db, shopID)
	if err != nil {
		return Retention{}, err
	}
	out := Retention{AnalyticsEventsDays: days}
	for _, k := range retainedKinds {
		it := RetentionItem{Kind: k.kind, KeepDays: k.days(days), Note: k.note}
		var at int64
		err := s.db.QueryRow(ctx, `SELECT ran_at, deleted FROM retention_runs WHERE shop_id = ? AND kind = ?`, shopID, k.kind).Scan(&at, &it.LastDeleted)
		if err != nil && !db.IsNoRows(err) {
			return Retention{}, errs.Wrap("read retention runs", err)
		}
		if err == nil {
			t := time.UnixMilli(at).UTC()
			it.LastRunAt = &t
		}
		out.Items = append(out.Items, it)
	}
	out.Items = append(out.Items, s.kept()...)
	return out, nil
}

// SetAnalyticsDays sets how long the shop keeps raw analytics events.
func (s *Service) SetAnalyticsDays(ctx context.Context, shopID int64, days int) (Retention, error) {
	if days < 30 || days > 1095 {
		return Retention{}, errs.Field("analytics_events_days", "invalid_days", "30 to 1095 days")
	}
	_, err := s.db.Exec(ctx, `INSERT INTO retention_settings (shop_id, analytics_days, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (shop_id) DO UPDATE SET analytics_days = excluded.analytics_days, updated_at = excluded.updated_at`,
		shopID, days, s.now().UnixMilli())
	if err != nil {
		return Retention{}, errs.Wrap("set retention", err)
	}
	return s.Retention(ctx, shopID)
}

// Prune deletes, for every shop, what is older than its retention, in
// batches, and records each kind's run. It returns the rows deleted.
func (s *Service) Prune(ctx context.Context) (int64, error) {
	shops, err := db.All(ctx, s.db, func(r db.Scanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, `SELECT id FROM shops ORDER BY id`)
	if err != nil {
		return 0, errs.Wrap("prune", err)
	}
	var total int64
	for _, shopID := range shops {
		n, err := s.pruneShop(ctx, shopID)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (s *Service) pruneShop(ctx context.Context, shopID int64) (int64, error) {
	days, err := s.analyticsDays(ctx, s.db, shopID)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, k := range retainedKinds {
		cutoff := s.now().AddDate(0, 0, -k.days(days)).UnixMilli()
		// The statements run in turn per batch (a message's attempts go
		// before it); the last one's count says whether more are left.
		var deleted int64
		for {
			var n int64
			for _, q := range k.prune {
				res, err := s.db.Exec(ctx, q, shopID, cutoff, pruneBatch)
				if err != nil {
					return total, errs.Wrap("prune "+k.kind, err)
				}
				n, _ = res.RowsAffected()
			}
			deleted += n
			if n < pruneBatch {
				break
			}
		}
		total += deleted
		if _, err := s.db.Exec(ctx, `INSERT INTO retention_runs (shop_id, kind, ran_at, deleted) VALUES (?, ?, ?, ?)
			ON CONFLICT (shop_id, kind) DO UPDATE SET ran_at = excluded.ran_at, deleted = excluded.deleted`,
			shopID, k.kind, s.now().UnixMilli(), deleted); err != nil {
			return total, errs.Wrap("record pruning", err)
		}
	}
	return total, nil
}
