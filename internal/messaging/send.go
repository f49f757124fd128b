package messaging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
	"github.com/kaidian/kaidian/internal/platform/wechat"
)

// SendKind is the job that sends one message.
const SendKind = "messaging.send"

// maxAttempts bounds retries of a busy WeChat or a call with no answer
// (backoff n² s: about 3.5 minutes over 8 attempts); the message is then
// dead-lettered.
const maxAttempts = 8

type sendJob struct {
	MessageID int64 `json:"message_id"`
}

// Paid is the order.OnPaid hook: the "paid" message, in the payment's
// transaction.
func (s *Service) Paid(ctx context.Context, tx *db.Tx, p order.PaidOrder) error {
	return s.queue(ctx, tx, p.ShopID, p.MemberID, OrderPaid, p.OrderID)
}

// Shipped is the order.OnShipped hook: the "shipped" message, in the ship
// transaction. The shipment does not name the buyer, so the order row
// (already locked by this transaction) is read for it.
func (s *Service) Shipped(ctx context.Context, tx *db.Tx, sh order.Shipment) error {
	var memberID int64
	err := tx.QueryRow(ctx, `SELECT member_id FROM orders WHERE shop_id = ? AND id = ?`, sh.ShopID, sh.OrderID).Scan(&memberID)
	if err != nil {
		return err
	}
	return s.queue(ctx, tx, sh.ShopID, memberID, OrderShipped, sh.OrderID)
}

// queue writes the message row and its send job (or, when the inbox is
// the shop's only channel for the kind, delivers it there at once); a
// message already queued for this kind, order and member is left alone (a
// repeated event).
func (s *Service) queue(ctx context.Context, tx *db.Tx, shopID, memberID int64, kind string, refID int64) error {
	return s.queueVars(ctx, tx, shopID, memberID, kind, refID, "")
}

func (s *Service) queueVars(ctx context.Context, tx *db.Tx, shopID, memberID int64, kind string, refID int64, vars string) error {
	now := s.nowMs()
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO messages (shop_id, member_id, kind, ref_id, vars, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (shop_id, kind, ref_id, member_id) DO NOTHING RETURNING id`,
		shopID, memberID, kind, refID, vars, now, now).Scan(&id)
	if db.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	m := outgoing{ID: id, ShopID: shopID, MemberID: memberID, RefID: refID, Kind: kind, State: Pending, Vars: vars}
	inbox, err := s.inboxOnly(ctx, tx, m)
	switch {
	case err != nil:
		return err
	case inbox:
		return s.deliverToInbox(ctx, tx, m)
	}
	return s.enqueue(ctx, tx, shopID, id)
}

// inboxOnly reports whether the inbox is the only channel the shop has
// for m's kind: no enabled subscription template, no OA template with a
// linked OA, no SMS template. Such a message is delivered in its trigger's
// transaction (deliverToInbox): a job would only move it to the inbox
// later, at the cost of its own commits and a second read of the order.
// What a member allows (acceptances, following the OA, a phone) is not
// asked here: with a channel configured the job decides, as before.
func (s *Service) inboxOnly(ctx context.Context, tx *db.Tx, m outgoing) (bool, error) {
	tpl, err := s.template(ctx, tx, m.ShopID, m.Kind)
	if err != nil || (tpl.TemplateID != "" && tpl.Enabled) {
		return false, err
	}
	if s.oa != nil && oaKind(m.Kind) {
		oaTpl, err := s.oaTemplate(ctx, tx, m.ShopID, m.Kind)
		if err != nil {
			return false, err
		}
		if oaTpl.TemplateID != "" && oaTpl.Enabled {
			if _, linked, err := s.oaStored(ctx, tx, m.ShopID); err != nil || linked {
				return false, err
			}
		}
	}
	if s.sms != nil && slices.Contains(channelOrder[m.Kind], ChannelSMS) {
		configured, err := s.sms.Configured(ctx, tx, m.ShopID, m.Kind)
		if err != nil || configured {
			return false, err
		}
	}
	return true, nil
}

// deliverToInbox sends a just-queued message to the inbox inside tx, with
// the values the transaction sees (an order's as it is being changed).
func (s *Service) deliverToInbox(ctx context.Context, tx *db.Tx, m outgoing) error {
	vars, err := messageVars(m, func() (order.Order, error) { return s.orders.HeadAndLinesIn(ctx, tx, m.ShopID, m.RefID) })
	if err != nil {
		return err
	}
	_, err = inboxChannel{s}.claim(ctx, tx, &m, plan{vars: vars})
	return err
}

func (s *Service) enqueue(ctx context.Context, x db.Querier, shopID, messageID int64) error {
	_, err := jobs.Enqueue(ctx, x, SendKind, sendJob{MessageID: messageID}, jobs.Options{ShopID: shopID,
		UniqueKey: "messaging:" + strconv.FormatInt(messageID, 10), MaxAttempts: maxAttempts})
	return err
}

// RegisterJobs sets the send job's handler and the periodic sweep.
func (s *Service) RegisterJobs(q *jobs.Queue) {
	q.Handle(SendKind, s.runSend)
	q.Every(SweepKind, 5*time.Minute, s.sweep)
}

// SweepKind re-queues messages whose job ended without settling them (the
// database failing through every attempt, a job row lost): pending or
// sending for over 15 minutes — well past the send job's whole backoff —
// and made in the last 3 days. The job's unique key keeps a queued or
// running job from being doubled; a message sending again reuses its
// reserved acceptance (see runSend).
const SweepKind = "messaging.sweep"

const (
	stuckAfter = 15 * time.Minute
	sweepSince = 72 * time.Hour
	sweepBatch = 500
)

func (s *Service) sweep(ctx context.Context, _ jobs.Job) error {
	now := s.now()
	type stuck struct{ shopID, id int64 }
	list, err := db.All(ctx, s.db, func(r db.Scanner) (stuck, error) {
		var m stuck
		return m, r.Scan(&m.shopID, &m.id)
	}, `SELECT shop_id, id FROM messages WHERE state IN ('pending', 'sending') AND updated_at < ? AND created_at > ?
		ORDER BY updated_at LIMIT ?`, now.Add(-stuckAfter).UnixMilli(), now.Add(-sweepSince).UnixMilli(), sweepBatch)
	if err != nil {
		return err
	}
	for _, m := range list {
		if err := s.enqueue(ctx, s.db, m.shopID, m.id); err != nil {
			return err
		}
	}
	return nil
}

// outgoing is a message row as the sender sees it.
type outgoing struct {
	ID, ShopID, MemberID, RefID int64
	Kind, State, Channel        string
	TemplateID, AttemptID, Body string
	Page, Vars                  string
	UpdatedAt                   int64 // Unix ms
}

func (s *Service) load(ctx context.Context, shopID, id int64) (outgoing, error) {
	m := outgoing{ID: id, ShopID: shopID}
	err := s.db.QueryRow(ctx, `SELECT member_id, ref_id, kind, state, channel, template_id, attempt_id, body, page, vars, updated_at
		FROM messages WHERE shop_id = ? AND id = ?`, shopID, id).
		Scan(&m.MemberID, &m.RefID, &m.Kind, &m.State, &m.Channel, &m.TemplateID, &m.AttemptID, &m.Body, &m.Page, &m.Vars, &m.UpdatedAt)
	return m, err
}

// runSend is the job: one step of a message's delivery.
func (s *Service) runSend(ctx context.Context, j jobs.Job) error {
	var p sendJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return err
	}
	m, err := s.load(ctx, j.ShopID, p.MessageID)
	if db.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	resend := m.State == Sending // an earlier attempt's outcome is unknown
	switch m.State {
	case Pending:
		if m, err = s.claim(ctx, m); err != nil || m.State != Sending {
			return err // delivered in the inbox, dead-lettered, or taken by another worker
		}
	case Sending:
		if wait := s.inFlight(m); wait > 0 {
			return jobs.RetryLater{After: wait} // another worker may be calling WeChat right now
		}
		if m, err = s.reattempt(ctx, m); err != nil || m.State != Sending {
			return err
		}
	default:
		return nil
	}
	ch, ok := s.channels[m.Channel]
	if !ok {
		return fmt.Errorf("messaging: message %d is sending on unknown channel %q", m.ID, m.Channel)
	}
	if m.Channel == ChannelSMS {
		return s.settleSMS(ctx, m, ch.deliver(ctx, m), j.Attempts)
	}
	if m.Channel == ChannelOA {
		err := s.settleOA(ctx, m, ch.deliver(ctx, m), j.Attempts)
		if errors.Is(err, errFellThrough) {
			return s.runSend(ctx, j) // pending again, and the follower no longer following: the next channel
		}
		return err
	}
	return s.settle(ctx, m, ch.deliver(ctx, m), resend, j.Attempts)
}

// plan is what a pending message needs, loaded before its transaction.
type plan struct {
	vars     map[string]string // the values the message shows (an order's, or its notice's)
	tpl      Template
	data     map[string]string
	problems []Problem
	phone    string // where an SMS goes: "" when SMS cannot carry it
	oa       oaPlan // the OA follower and template: openid "" when the OA cannot carry it
}

var errStale = errors.New("messaging: message changed under the sender")

// claim picks the channel of a pending message and takes what it needs:
// for a subscription message one acceptance (compare-and-set) and the
// message is marked sending; the inbox delivers by the update itself.
func (s *Service) claim(ctx context.Context, m outgoing) (outgoing, error) {
	pl, err := s.plan(ctx, m)
	if errs.Is(err, "order_not_found") {
		return m, s.bury(ctx, m, 0, "the order no longer exists")
	}
	if err != nil {
		return m, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, name := range channelOrder[m.Kind] {
			ch, on := s.channels[name]
			if !on {
				continue // SMS without a gateway
			}
			ok, err := ch.claim(ctx, tx, &m, pl)
			if ok || err != nil {
				return err
			}
		}
		return fmt.Errorf("messaging: no channel for kind %q", m.Kind)
	})
	if errors.Is(err, errStale) {
		return outgoing{State: Sent}, nil // another worker has it
	}
	if errors.Is(err, errOABadFields) {
		return m, s.bury(ctx, m, wechat.ErrSubscribeData, fmt.Sprintf("OA template refused before sending: %s %s", pl.oa.problems[0].Key, pl.oa.problems[0].Reason))
	}
	if errors.Is(err, errBadFields) {
		return m, s.bury(ctx, m, wechat.ErrSubscribeData, fmt.Sprintf("refused before sending: %s %s", pl.problems[0].Key, pl.problems[0].Reason))
	}
	return m, err
}

var errBadFields = errors.New("messaging: keywords WeChat would refuse")

func (s *Service) plan(ctx context.Context, m outgoing) (plan, error) {
	vars, err := s.values(ctx, m)
	if err != nil {
		return plan{}, err
	}
	tpl, err := s.template(ctx, s.db, m.ShopID, m.Kind)
	if err != nil {
		return plan{}, err
	}
	pl := plan{vars: vars, tpl: tpl}
	if tpl.TemplateID != "" && tpl.Enabled {
		pl.data, pl.problems = render(tpl.Fields, vars)
	}
	if pl.oa, err = s.loadOAPlan(ctx, m, vars); err != nil {
		return plan{}, err
	}
	pl.phone, err = s.smsPlan(ctx, m)
	return pl, err
}

func staleIfNoRows(err error) error {
	if db.IsNoRows(err) {
		return errStale
	}
	return err
}

// values are what a message shows: its order's, read now, or the values
// its notice was queued with.
func (s *Service) values(ctx context.Context, m outgoing) (map[string]string, error) {
	return messageVars(m, func() (order.Order, error) { return s.orders.Get(ctx, m.ShopID, m.RefID, 0) })
}

// messageVars are m's values: for an order kind those of the order
// readOrder returns, else those its notice was queued with.
func messageVars(m outgoing, readOrder func() (order.Order, error)) (map[string]string, error) {
	if !kindSpecs[m.Kind].order {
		return noticeVars(m.Vars)
	}
	o, err := readOrder()
	if err != nil {
		return nil, err
	}
	return orderVars(o), nil
}

// noticeVars decodes the values a notice was queued with.
func noticeVars(stored string) (map[string]string, error) {
	vars := map[string]string{}
	if stored != "" {
		if err := json.Unmarshal([]byte(stored), &vars); err != nil {
			return nil, err
		}
	}
	return vars, nil
}

func kindTitle(kind string) string { return kindSpecs[kind].title }

// takeover is how long an attempt that was never settled (its worker died
// between claiming and settling) blocks another: longer than a call to
// WeChat can take (a 10 s timeout), so a live attempt is never doubled.
const takeover = 2 * time.Minute

// inFlight says how long to wait before taking over m's attempt: zero when
// its last attempt was settled (a retry clears the attempt id) or is older
// than takeover.
func (s *Service) inFlight(m outgoing) time.Duration {
	if m.AttemptID == "" {
		return 0
	}
	left := time.UnixMilli(m.UpdatedAt).Add(takeover).Sub(s.now())
	return max(left, 0)
}

// reattempt gives a message left sending (a settled retry, or a dead
// worker's attempt) a new attempt id by compare-and-set, keeping its
// reserved acceptance.
func (s *Service) reattempt(ctx context.Context, m outgoing) (outgoing, error) {
	attempt := newAttemptID()
	err := db.ExpectOne(s.db.Exec(ctx, `UPDATE messages SET attempt_id = ?, updated_at = ?
		WHERE shop_id = ? AND id = ? AND state = 'sending' AND attempt_id = ?`, attempt, s.nowMs(), m.ShopID, m.ID, m.AttemptID))
	if db.IsNoRows(err) {
		return outgoing{State: Sent}, nil
	}
	m.AttemptID = attempt
	return m, err
}

// settle records an attempt's outcome by class:
//   - OK: sent;
//   - a refusal (43101 no acceptance, 47003 bad keyword, 40037 template
//     gone, 41030 page, 40003 openid): dead letter, never retried on its
//     own. WeChat refused before delivering, so the acceptance is given
//     back, except on 43101, which says there is none: the counter goes
//     to 0. A 43101 on a resend, after an attempt with no answer, means
//     that attempt delivered (it used the acceptance): sent.
//   - token errors were refreshed and retried once by the client; if they
//     persist they are retried here like a busy WeChat (-1) or no answer:
//     with the queue's backoff, then dead-lettered; the acceptance stays
//     used, as an unanswered attempt may have delivered.
func (s *Service) settle(ctx context.Context, m outgoing, callErr error, resend bool, attempts int) error {
	now := s.nowMs()
	code := wechat.ErrCode(callErr)
	switch {
	case callErr == nil:
		return s.finish(ctx, m, Sent, "sent", 0, "", now, 0)
	case code == wechat.ErrSubscribeRefused && resend:
		return s.finish(ctx, m, Sent, "refused", code,
			"an earlier attempt had no answer and WeChat now has no acceptance left: that attempt delivered", now, 0)
	case wechat.IsSubscribeRefusal(callErr):
		give := 1
		if code == wechat.ErrSubscribeRefused {
			give = -1 // set to 0
		}
		return s.finish(ctx, m, Dead, "refused", code, errs.StoredMessage(callErr), now, give)
	case attempts >= maxAttempts:
		return s.finish(ctx, m, Dead, "gave_up", code,
			fmt.Sprintf("gave up after %d attempts: %s", attempts, errs.StoredMessage(callErr)), now, 0)
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		// The attempt is over: a cleared attempt id lets the retry start at once.
		_, err := tx.Exec(ctx, `UPDATE messages SET attempt_id = '', attempts = attempts + 1, errcode = ?, reason = ?, updated_at = ?
			WHERE shop_id = ? AND id = ? AND state = 'sending' AND attempt_id = ?`,
			code, errs.StoredMessage(callErr), now, m.ShopID, m.ID, m.AttemptID)
		if err != nil {
			return err
		}
		return logAttempt(ctx, tx, m, "retry", code, errs.StoredMessage(callErr), now)
	})
	if err != nil {
		return err
	}
	return callErr // the queue retries with backoff
}

// finish ends a sending message by compare-and-set on its attempt, with
// the attempt logged; give is +1 to give the acceptance back, -1 to set
// the counter to 0 (WeChat says there is none), 0 to leave it.
func (s *Service) finish(ctx context.Context, m outgoing, state, outcome string, code int, reason string, now int64, give int) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var sentAt any
		if state == Sent {
			sentAt = now
		}
		err := db.ExpectOne(tx.Exec(ctx, `UPDATE messages SET state = ?, attempts = attempts + 1, errcode = ?, reason = ?,
			sent_at = ?, updated_at = ? WHERE shop_id = ? AND id = ? AND state = 'sending' AND attempt_id = ?`,
			state, code, reason, sentAt, now, m.ShopID, m.ID, m.AttemptID))
		if db.IsNoRows(err) {
			return nil // another attempt settled it
		}
		if err != nil {
			return err
		}
		if err := logAttempt(ctx, tx, m, outcome, code, reason, now); err != nil {
			return err
		}
		return s.adjust(ctx, tx, m, give, now)
	})
}

// adjust gives back or zeroes the acceptance of a refused message.
func (s *Service) adjust(ctx context.Context, tx *db.Tx, m outgoing, give int, now int64) error {
	switch give {
	case 1:
		if _, err := tx.Exec(ctx, `UPDATE msg_acceptances SET remaining = remaining + 1, updated_at = ?
			WHERE shop_id = ? AND member_id = ? AND template_id = ?`, now, m.ShopID, m.MemberID, m.TemplateID); err != nil {
			return err
		}
		return logAcceptance(ctx, tx, m.ShopID, m.MemberID, m.TemplateID, "returned", 1, m.ID, now)
	case -1:
		var left int
		err := tx.QueryRow(ctx, `SELECT remaining FROM msg_acceptances WHERE shop_id = ? AND member_id = ? AND template_id = ?`,
			m.ShopID, m.MemberID, m.TemplateID).Scan(&left)
		if err != nil || left == 0 {
			return ignoreNoRows(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE msg_acceptances SET remaining = 0, updated_at = ?
			WHERE shop_id = ? AND member_id = ? AND template_id = ?`, now, m.ShopID, m.MemberID, m.TemplateID); err != nil {
			return err
		}
		return logAcceptance(ctx, tx, m.ShopID, m.MemberID, m.TemplateID, "wechat_43101", -left, m.ID, now)
	}
	return nil
}

func ignoreNoRows(err error) error {
	if db.IsNoRows(err) {
		return nil
	}
	return err
}

// bury dead-letters a pending message that cannot be sent as it stands.
func (s *Service) bury(ctx context.Context, m outgoing, code int, reason string) error {
	now := s.nowMs()
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		err := db.ExpectOne(tx.Exec(ctx, `UPDATE messages SET state = 'dead', attempts = attempts + 1, errcode = ?, reason = ?,
			updated_at = ? WHERE shop_id = ? AND id = ? AND state = 'pending'`, code, reason, now, m.ShopID, m.ID))
		if err != nil {
			return ignoreNoRows(err)
		}
		return logAttempt(ctx, tx, m, "refused_locally", code, reason, now)
	})
}

func logAttempt(ctx context.Context, tx *db.Tx, m outgoing, outcome string, code int, msg string, now int64) error {
	channel := m.Channel
	if channel == "" {
		channel = ChannelSubscription
	}
	_, err := tx.Exec(ctx, `INSERT INTO message_attempts (shop_id, message_id, attempt_id, channel, outcome, errcode, error, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, m.ShopID, m.ID, m.AttemptID, channel, outcome, code, msg, now)
	return err
}
