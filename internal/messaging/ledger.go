package messaging

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/wechat"
)

// The quota ledger. Counting rule: an acceptance is counted once, from the
// buyer's client report (POST /api/v1/me/subscriptions, sent right after
// wx.requestSubscribeMessage). WeChat's subscribe_msg_popup_event reports
// the same tap but carries no id to match it with, so its "accept" is only
// logged, never counted: counting both would double count, and the client
// report is there at once (the buyer usually pays seconds later) while the
// push may come later or not at all. The risks are one-sided and bounded:
// a lost or forged client report over- or under-counts; an over-count
// costs one 43101 answer, after which the counter is set to 0 (WeChat's
// truth), and an under-count sends the message to the inbox instead.
// Rejections from pushes (subscribe_msg_change_event: the buyer turned the
// template off in settings) zero the counter, in safe mode only, as a
// plain push's body is not signed.

// Results of wx.requestSubscribeMessage per template.
const (
	Accept = "accept"
	Reject = "reject"
	Ban    = "ban"    // the template was banned by WeChat
	Filter = "filter" // the template was filtered (a duplicate title)
)

const (
	// maxPerCall is how many templates one requestSubscribeMessage may ask.
	maxPerCall = 5
	// maxRemaining caps the acceptances counted per template, bounding
	// what a replayed report can add.
	maxRemaining = 50
	// maxNext is how many templates the mini program is told to ask for
	// at once (the older limit of 3 that every client version supports).
	maxNext = 3
)

// ReportInput is what wx.requestSubscribeMessage answered.
type ReportInput struct {
	Results map[string]string `json:"results" doc:"template id → accept, reject, ban or filter, as wx.requestSubscribeMessage answered (at most 5)"`
}

// Subscription is the buyer's standing with one template.
type Subscription struct {
	TemplateID string   `json:"template_id"`
	Kinds      []string `json:"kinds" doc:"the message kinds that use this template"`
	Remaining  int      `json:"remaining" doc:"messages this template may still send (one per acceptance)"`
	Status     string   `json:"status" enum:"accept,reject,ban,filter,none" doc:"the last answer for this template; none when never asked"`
}

// templateKinds maps the shop's template ids to the kinds using them.
func (s *Service) templateKinds(ctx context.Context, q db.Querier, shopID int64, enabledOnly bool) (map[string][]string, error) {
	rows, err := q.Query(ctx, `SELECT template_id, kind, enabled FROM msg_templates WHERE shop_id = ? ORDER BY kind`, shopID)
	if err != nil {
		return nil, errs.Wrap("templates", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var id, kind string
		var enabled bool
		if err := rows.Scan(&id, &kind, &enabled); err != nil {
			return nil, errs.Wrap("templates", err)
		}
		if enabled || !enabledOnly {
			out[id] = append(out[id], kind)
		}
	}
	return out, errs.Wrap("templates", rows.Err())
}

// Report records a buyer's answers to wx.requestSubscribeMessage.
func (s *Service) Report(ctx context.Context, shopID, memberID int64, in ReportInput) ([]Subscription, error) {
	if len(in.Results) == 0 || len(in.Results) > maxPerCall {
		return nil, errs.Field("results", "invalid_results", fmt.Sprintf("results holds 1 to %d templates", maxPerCall))
	}
	known, err := s.templateKinds(ctx, s.db, shopID, false)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(in.Results))
	for id, res := range in.Results {
		if !slices.Contains([]string{Accept, Reject, Ban, Filter}, res) {
			return nil, errs.Field("results."+id, "invalid_results", "each result is accept, reject, ban or filter")
		}
		if _, ok := known[id]; !ok {
			return nil, errs.Field("results."+id, "unknown_template", "this shop has no message kind using this template")
		}
		ids = append(ids, id)
	}
	sort.Strings(ids) // one lock order for concurrent reports
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, id := range ids {
			if err := s.record(ctx, tx, shopID, memberID, id, in.Results[id]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, errs.Wrap("record subscriptions", err)
	}
	return s.Subscriptions(ctx, shopID, memberID)
}

// record applies one answer: an accept adds one acceptance (up to the cap),
// any other answer only sets the status (earlier acceptances still hold).
func (s *Service) record(ctx context.Context, tx *db.Tx, shopID, memberID int64, templateID, result string) error {
	now := s.nowMs()
	add := 0
	if result == Accept {
		add = 1
	}
	var before int
	err := tx.QueryRow(ctx, `SELECT remaining FROM msg_acceptances WHERE shop_id = ? AND member_id = ? AND template_id = ?`,
		shopID, memberID, templateID).Scan(&before)
	if err != nil && !db.IsNoRows(err) {
		return err
	}
	if before+add > maxRemaining {
		add = 0
	}
	_, err = tx.Exec(ctx, `INSERT INTO msg_acceptances (shop_id, member_id, template_id, remaining, status, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (shop_id, member_id, template_id) DO UPDATE SET
		remaining = CASE WHEN msg_acceptances.remaining + excluded.remaining <= ? THEN msg_acceptances.remaining + excluded.remaining
			ELSE msg_acceptances.remaining END,
		status = excluded.status, updated_at = excluded.updated_at`,
		shopID, memberID, templateID, add, result, now, maxRemaining)
	if err != nil {
		return err
	}
	return logAcceptance(ctx, tx, shopID, memberID, templateID, "client_"+result, add, 0, now)
}

func logAcceptance(ctx context.Context, tx *db.Tx, shopID, memberID int64, templateID, source string, delta int, messageID, now int64) error {
	var msg any
	if messageID != 0 {
		msg = messageID
	}
	_, err := tx.Exec(ctx, `INSERT INTO msg_acceptance_log (shop_id, member_id, template_id, source, delta, message_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, shopID, memberID, templateID, source, delta, msg, now)
	return err
}

// Subscriptions lists the buyer's standing with each of the shop's
// enabled templates.
func (s *Service) Subscriptions(ctx context.Context, shopID, memberID int64) ([]Subscription, error) {
	kinds, err := s.templateKinds(ctx, s.db, shopID, true)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT template_id, remaining, status FROM msg_acceptances WHERE shop_id = ? AND member_id = ?`,
		shopID, memberID)
	if err != nil {
		return nil, errs.Wrap("subscriptions", err)
	}
	defer rows.Close()
	have := map[string]Subscription{}
	for rows.Next() {
		var sub Subscription
		if err := rows.Scan(&sub.TemplateID, &sub.Remaining, &sub.Status); err != nil {
			return nil, errs.Wrap("subscriptions", err)
		}
		have[sub.TemplateID] = sub
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap("subscriptions", err)
	}
	out := make([]Subscription, 0, len(kinds))
	for id, ks := range kinds {
		sub, ok := have[id]
		if !ok {
			sub = Subscription{TemplateID: id, Status: "none"}
		}
		sub.Kinds = ks
		out = append(out, sub)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TemplateID < out[j].TemplateID })
	return out, nil
}

// Next says which templates the mini program should ask for (at most 3):
// those of the given kinds (all when none) that WeChat has not banned or
// filtered, fewest acceptances left first.
func (s *Service) Next(ctx context.Context, shopID, memberID int64, kinds []string) ([]Subscription, error) {
	for _, k := range kinds {
		if !slices.Contains(Kinds, k) {
			return nil, errs.Field("kind", "unknown_kind", "kind must be one of "+strings.Join(Kinds, ", "))
		}
	}
	subs, err := s.Subscriptions(ctx, shopID, memberID)
	if err != nil {
		return nil, err
	}
	out := []Subscription{}
	for _, sub := range subs {
		wanted := len(kinds) == 0 || slices.ContainsFunc(sub.Kinds, func(k string) bool { return slices.Contains(kinds, k) })
		if wanted && sub.Status != Ban && sub.Status != Filter && sub.Remaining < maxRemaining {
			out = append(out, sub)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Remaining < out[j].Remaining })
	if len(out) > maxNext {
		out = out[:maxNext]
	}
	return out, nil
}

// Push events about subscriptions.
const (
	PopupEvent  = "subscribe_msg_popup_event"
	ChangeEvent = "subscribe_msg_change_event"
)

type subscribePush struct {
	FromUserName string `json:"FromUserName"`
	List         wechat.OneOrMany[struct {
		TemplateID            string `json:"TemplateId"`
		SubscribeStatusString string `json:"SubscribeStatusString"`
	}] `json:"List"`
}

// PopupPushed is subscribe_msg_popup_event: logged for each template (the
// client report counts the acceptance; see the counting rule above).
func (s *Service) PopupPushed(ctx context.Context, shopID int64, p wechat.Push) error {
	return s.applyPush(ctx, shopID, p, "push_popup_", false)
}

// ChangePushed is subscribe_msg_change_event: the buyer turned templates
// off in the mini program's settings; their counters go to 0. Safe-mode
// pushes only.
func (s *Service) ChangePushed(ctx context.Context, shopID int64, p wechat.Push) error {
	if !p.Encrypted {
		s.log.Warn("subscription change push in plain mode ignored: set the message push to safe mode", "shop", shopID)
		return nil
	}
	return s.applyPush(ctx, shopID, p, "push_change_", true)
}

func (s *Service) applyPush(ctx context.Context, shopID int64, p wechat.Push, source string, zeroOnReject bool) error {
	var ev subscribePush
	if err := p.Decode(&ev); err != nil || ev.FromUserName == "" {
		s.log.Warn("subscription push without a user or list", "shop", shopID, "event", p.Event)
		return nil
	}
	memberID, err := s.members.IDByOpenID(ctx, shopID, ev.FromUserName)
	if errs.Is(err, "member_not_found") {
		return nil // someone who never logged in here: nothing to count
	}
	if err != nil {
		return err
	}
	now := s.nowMs()
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, item := range ev.List {
			if item.TemplateID == "" {
				continue
			}
			delta, err := s.pushItem(ctx, tx, shopID, memberID, item.TemplateID, item.SubscribeStatusString, zeroOnReject, now)
			if err != nil {
				return err
			}
			if err := logAcceptance(ctx, tx, shopID, memberID, item.TemplateID, source+item.SubscribeStatusString, delta, 0, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// pushItem applies a rejection from a change push; it returns the change
// of the counter.
func (s *Service) pushItem(ctx context.Context, tx *db.Tx, shopID, memberID int64, templateID, status string, zero bool, now int64) (int, error) {
	if status != Reject || !zero {
		return 0, nil
	}
	var before int
	err := tx.QueryRow(ctx, `SELECT remaining FROM msg_acceptances WHERE shop_id = ? AND member_id = ? AND template_id = ?`,
		shopID, memberID, templateID).Scan(&before)
	if db.IsNoRows(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	_, err = tx.Exec(ctx, `UPDATE msg_acceptances SET remaining = 0, status = 'reject', updated_at = ?
		WHERE shop_id = ? AND member_id = ? AND template_id = ?`, now, shopID, memberID, templateID)
	return -before, err
}
