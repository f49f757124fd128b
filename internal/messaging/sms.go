package messaging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/sms"
)

// ChannelSMS sends text messages through the shop's SMS provider.
const ChannelSMS = "sms"

// SMS is the shop's SMS gateway (*smsgate.Service).
type SMS interface {
	// Configured reports whether the shop has a template for kind.
	Configured(ctx context.Context, q db.Querier, shopID int64, kind string) (bool, error)
	// Phone is the member's bound phone, "" when none.
	Phone(ctx context.Context, shopID, memberID int64) (string, error)
	// OptedOut reports whether the member unsubscribed from marketing SMS.
	OptedOut(ctx context.Context, q db.Querier, shopID, memberID int64) (bool, error)
	Send(ctx context.Context, shopID int64, kind, phone string, params []sms.Param) (sms.Result, error)
}

// SetSMS adds SMS between the subscription message and the inbox.
func (s *Service) SetSMS(g SMS) {
	s.sms = g
	s.channels[ChannelSMS] = smsChannel{s}
}

// transactional kinds are about the buyer's own order: they go even to a
// member who unsubscribed from marketing SMS (退订回T).
var transactional = map[string]bool{OrderPaid: true, OrderShipped: true, OrderRefunded: true, MembershipExpiring: true}

// smsParams are the variables an SMS template of kind takes: order_no and
// amount for the order kinds (refunded: the amount refunded), else each
// value by its name without the room (membership.title → title).
func smsParams(kind string, vars map[string]string) []sms.Param {
	if kindSpecs[kind].order {
		amount := vars["order.amount"]
		if kind == OrderRefunded {
			amount = vars["order.refunded"]
		}
		return []sms.Param{{Name: "order_no", Value: vars["order.no"]}, {Name: "amount", Value: amount}}
	}
	var out []sms.Param
	for _, k := range kindSpecs[kind].vars {
		_, name, _ := strings.Cut(k, ".")
		out = append(out, sms.Param{Name: name, Value: vars[k]})
	}
	return out
}

// smsBody is what an SMS message stores at claim: the number and the
// template's variables, so a resend sends the same text to the same phone.
type smsBody struct {
	Phone  string      `json:"phone"`
	Params []sms.Param `json:"params"`
}

// smsPlan loads, before the claim's transaction, whether m can go by SMS
// and to which phone.
func (s *Service) smsPlan(ctx context.Context, m outgoing) (string, error) {
	if s.sms == nil {
		return "", nil
	}
	ok, err := s.sms.Configured(ctx, s.db, m.ShopID, m.Kind)
	if err != nil || !ok {
		return "", err
	}
	return s.sms.Phone(ctx, m.ShopID, m.MemberID)
}

type smsChannel struct{ s *Service }

func (c smsChannel) claim(ctx context.Context, tx *db.Tx, m *outgoing, pl plan) (bool, error) {
	if pl.phone == "" {
		return false, nil
	}
	if !transactional[m.Kind] {
		out, err := c.s.sms.OptedOut(ctx, tx, m.ShopID, m.MemberID)
		if err != nil || out {
			return false, err
		}
	}
	body, _ := json.Marshal(smsBody{Phone: pl.phone, Params: smsParams(m.Kind, pl.vars)})
	title := kindTitle(m.Kind)
	attempt := newAttemptID()
	m.State, m.Channel, m.TemplateID, m.AttemptID, m.Body, m.Page = Sending, ChannelSMS, "", attempt, string(body), ""
	err := db.ExpectOne(tx.Exec(ctx, `UPDATE messages SET state = 'sending', channel = 'sms', template_id = '', attempt_id = ?,
		title = ?, body = ?, page = '', updated_at = ? WHERE shop_id = ? AND id = ? AND state = 'pending'`,
		attempt, title, m.Body, c.s.nowMs(), m.ShopID, m.ID))
	return true, staleIfNoRows(err)
}

func (c smsChannel) deliver(ctx context.Context, m outgoing) error {
	var b smsBody
	if err := json.Unmarshal([]byte(m.Body), &b); err != nil {
		return err
	}
	_, err := c.s.sms.Send(ctx, m.ShopID, m.Kind, b.Phone, b.Params)
	return err
}

// settleSMS records an SMS attempt's outcome by class: sent; the
// provider's refusals (a wrong number, a template or sign name not
// approved, credentials, balance, its frequency limits) and settings
// removed since the claim go to the dead letters; a provider that failed
// or did not answer is retried with backoff, then dead-lettered.
func (s *Service) settleSMS(ctx context.Context, m outgoing, callErr error, attempts int) error {
	now := s.nowMs()
	var pe *sms.Error
	switch {
	case callErr == nil:
		return s.finish(ctx, m, Sent, "sent", 0, "", now, 0)
	case errs.Is(callErr, "sms_not_configured"):
		return s.finish(ctx, m, Dead, "refused", 0, "the shop's SMS settings changed: "+errs.StoredMessage(callErr), now, 0)
	case errors.As(callErr, &pe) && pe.Class() != sms.Temporary:
		return s.finish(ctx, m, Dead, "refused", 0, errs.StoredMessage(callErr), now, 0)
	case attempts >= maxAttempts:
		return s.finish(ctx, m, Dead, "gave_up", 0,
			fmt.Sprintf("gave up after %d attempts: %s", attempts, errs.StoredMessage(callErr)), now, 0)
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE messages SET attempt_id = '', attempts = attempts + 1, errcode = 0, reason = ?, updated_at = ?
			WHERE shop_id = ? AND id = ? AND state = 'sending' AND attempt_id = ?`,
			errs.StoredMessage(callErr), now, m.ShopID, m.ID, m.AttemptID)
		if err != nil {
			return err
		}
		return logAttempt(ctx, tx, m, "retry", 0, errs.StoredMessage(callErr), now)
	})
	if err != nil {
		return err
	}
	return callErr
}
