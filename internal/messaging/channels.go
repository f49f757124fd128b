package messaging

import (
	"context"
	"encoding/json"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/wechat"
)

// channel carries messages to buyers. The Official Account's template
// messages (oa.go) and SMS (sms.go) are two more implementations, put in
// channelOrder before the inbox.
type channel interface {
	// claim runs in the claim transaction of a pending message: it takes
	// what the channel needs to carry m (an acceptance, a rate slot) by
	// compare-and-set and marks m sending (deliver follows) or sent (the
	// inbox delivers by the update itself). ok is false when the channel
	// cannot carry m now; the next channel is tried.
	claim(ctx context.Context, tx *db.Tx, m *outgoing, pl plan) (ok bool, err error)
	// deliver sends a sending message, outside any transaction; its error
	// is classed by settle.
	deliver(ctx context.Context, m outgoing) error
}

func (s *Service) newChannels() map[string]channel {
	return map[string]channel{ChannelSubscription: subscriptionChannel{s}, ChannelInbox: inboxChannel{s}}
}

// subscriptionChannel sends WeChat subscription messages, one per
// acceptance in the quota ledger.
type subscriptionChannel struct{ s *Service }

func (c subscriptionChannel) claim(ctx context.Context, tx *db.Tx, m *outgoing, pl plan) (bool, error) {
	if pl.tpl.TemplateID == "" || !pl.tpl.Enabled {
		return false, nil
	}
	now := c.s.nowMs()
	res, err := tx.Exec(ctx, `UPDATE msg_acceptances SET remaining = remaining - 1, updated_at = ?
		WHERE shop_id = ? AND member_id = ? AND template_id = ? AND remaining > 0`, now, m.ShopID, m.MemberID, pl.tpl.TemplateID)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil // no acceptance left
	}
	if len(pl.problems) > 0 {
		return false, errBadFields // rolls the acceptance back
	}
	if err := logAcceptance(ctx, tx, m.ShopID, m.MemberID, pl.tpl.TemplateID, "send", -1, m.ID, now); err != nil {
		return false, err
	}
	body, _ := json.Marshal(pl.data)
	attempt := newAttemptID()
	m.State, m.Channel, m.TemplateID, m.AttemptID = Sending, ChannelSubscription, pl.tpl.TemplateID, attempt
	m.Body, m.Page = string(body), pagePath(pl.tpl.Page, m.RefID)
	err = db.ExpectOne(tx.Exec(ctx, `UPDATE messages SET state = 'sending', channel = ?, template_id = ?, attempt_id = ?,
		title = ?, body = ?, page = ?, updated_at = ? WHERE shop_id = ? AND id = ? AND state = 'pending'`,
		ChannelSubscription, m.TemplateID, attempt, kindTitle(m.Kind), m.Body, m.Page, now, m.ShopID, m.ID))
	return true, staleIfNoRows(err)
}

// deliver calls subscribeMessage.send with the keywords rendered at claim.
func (c subscriptionChannel) deliver(ctx context.Context, m outgoing) error {
	app, err := c.s.apps.App(ctx, m.ShopID)
	if err != nil {
		return err
	}
	openid, err := c.s.members.OpenID(ctx, m.ShopID, m.MemberID)
	if err != nil {
		return err
	}
	var data map[string]string
	if err := json.Unmarshal([]byte(m.Body), &data); err != nil {
		return err
	}
	msg := wechat.SubscribeMessage{ToUser: openid, TemplateID: m.TemplateID, Page: m.Page, Data: map[string]wechat.KeywordValue{}}
	for k, v := range data {
		msg.Data[k] = wechat.KeywordValue{Value: v}
	}
	return c.s.wx.SendSubscribeMessage(ctx, app, msg)
}

// inboxChannel is the inbox (站内信): always there, delivered by the claim.
type inboxChannel struct{ s *Service }

func (c inboxChannel) claim(ctx context.Context, tx *db.Tx, m *outgoing, pl plan) (bool, error) {
	now := c.s.nowMs()
	title, body := inboxText(m.Kind, pl.vars)
	m.State, m.Channel, m.AttemptID = Sent, ChannelInbox, newAttemptID()
	err := db.ExpectOne(tx.Exec(ctx, `UPDATE messages SET state = 'sent', channel = 'inbox', template_id = '', attempt_id = ?,
		attempts = attempts + 1, title = ?, body = ?, page = ?, sent_at = ?, updated_at = ?
		WHERE shop_id = ? AND id = ? AND state = 'pending'`,
		m.AttemptID, title, body, inboxPage(m.Kind, pl.vars, m.RefID), now, now, m.ShopID, m.ID))
	if err != nil {
		return false, staleIfNoRows(err)
	}
	return true, logAttempt(ctx, tx, *m, "delivered", 0, "", now)
}

// deliver is never called: an inbox message is sent when claimed.
func (inboxChannel) deliver(context.Context, outgoing) error { return nil }
