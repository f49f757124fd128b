// Package messaging sends buyers the messages their orders call for (issue
// 15, first increment): WeChat subscription messages (订阅消息) with an
// inbox (站内信) as the channel that is always there.
//
// A trigger (order paid, order shipped) writes a messages row — unique per
// kind, order and member — and its send job in the transaction of the
// change. The job picks the first channel of the kind's order that can
// carry the message now: a subscription message needs the shop's template
// for the kind and an acceptance left in the quota ledger, which the send
// takes by compare-and-set; the inbox always can. WeChat's answers are
// handled by class (see settle): refusals go to the dead letters for
// staff, never retried on their own; a busy WeChat or no answer is retried
// with backoff; every attempt is logged.
//
// Exactly once: the row is marked "sending" with a fresh attempt id (and
// the acceptance reserved) before WeChat is called, and "sent" by a
// compare-and-set on that attempt after; a retry after a settled failure
// clears the attempt id. An attempt that was never settled blocks every
// other worker for two minutes (it may still be talking to WeChat), then is
// taken over. So a crash between WeChat's OK and the mark leaves "sending",
// and the takeover sends again: a message can be delivered twice in that
// window, never otherwise. What narrows it: the resend reuses the
// acceptance it had reserved (no second one is taken), and when WeChat
// then answers 43101 (no acceptance left, which the first delivery used)
// the message is taken as delivered rather than dead-lettered. A periodic
// sweep re-queues messages whose job ended without settling them.
package messaging

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/secretbox"
	"github.com/kaidian/kaidian/internal/platform/wechat"
)

// Message kinds. The order kinds are triggered by the order's life; the
// others are notices other rooms queue with Notify (kinds.go).
const (
	OrderPaid          = "order_paid"
	OrderShipped       = "order_shipped"
	OrderRefunded      = "order_refunded"
	MembershipExpiring = "membership_expiring" // a membership ends in 7, 3, 1 days or ended yesterday
	LevelFalling       = "level_falling"       // a member level's fall is announced (30 days' notice)
	PointsExpiring     = "points_expiring"     // points expire within 7 days
	Campaign           = "campaign"            // a campaign's message (marketing: opted-out members get none)
)

// Kinds lists the kinds in the order staff see them.
var Kinds = []string{OrderPaid, OrderShipped, OrderRefunded, MembershipExpiring, LevelFalling, PointsExpiring, Campaign}

// Channels (channels.go); the Official Account's template messages
// (ChannelOA, oa.go) and SMS (ChannelSMS, sms.go) are two more
// implementations of channel, put into channelOrder before the inbox.
const (
	ChannelSubscription = "subscription"
	ChannelInbox        = "inbox"
)

// channelOrder is which channels a kind tries, first to last.
var channelOrder = map[string][]string{
	OrderPaid:          {ChannelSubscription, ChannelOA, ChannelSMS, ChannelInbox},
	OrderShipped:       {ChannelSubscription, ChannelOA, ChannelSMS, ChannelInbox},
	OrderRefunded:      {ChannelSubscription, ChannelOA, ChannelSMS, ChannelInbox},
	MembershipExpiring: {ChannelSubscription, ChannelOA, ChannelSMS, ChannelInbox},
	LevelFalling:       {ChannelSubscription, ChannelInbox},
	PointsExpiring:     {ChannelSubscription, ChannelInbox},
	Campaign:           {ChannelSubscription, ChannelInbox},
}

// States of a message.
const (
	Pending = "pending"
	Sending = "sending"
	Sent    = "sent"
	Dead    = "dead"
)

// Orders reads an order (order.Service): Get when a message is sent by
// its job, HeadAndLinesIn inside the transaction that queues it.
type Orders interface {
	Get(ctx context.Context, shopID, orderID, memberID int64) (order.Order, error)
	HeadAndLinesIn(ctx context.Context, q db.Querier, shopID, orderID int64) (order.Order, error)
}

// Apps gives a shop's mini-program credentials.
type Apps interface {
	App(ctx context.Context, shopID int64) (wechat.App, error)
}

// Members maps members to openids and back (member.Service).
type Members interface {
	OpenID(ctx context.Context, shopID, memberID int64) (string, error)
	IDByOpenID(ctx context.Context, shopID int64, openid string) (int64, error)
}

// Sender calls WeChat (*wechat.Client).
type Sender interface {
	SendSubscribeMessage(ctx context.Context, app wechat.App, m wechat.SubscribeMessage) error
}

// Service is the messaging room.
type Service struct {
	db      *db.DB
	orders  Orders
	apps    Apps
	members Members
	wx      Sender
	log     *slog.Logger
	now     func() time.Time
	// channels by name (channels.go); SMS once SetSMS gives the gateway
	channels map[string]channel
	sms      SMS
	// the OA channel once SetOA gives its client (oa.go)
	box *secretbox.Box
	oa  OA
}

// NewService returns the service.
func NewService(d *db.DB, orders Orders, apps Apps, members Members, wx Sender, log *slog.Logger) *Service {
	s := &Service{db: d, orders: orders, apps: apps, members: members, wx: wx, log: log, now: time.Now}
	s.channels = s.newChannels()
	return s
}

// SetClock replaces the clock (for tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) nowMs() int64 { return s.now().UnixMilli() }

func newAttemptID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func timeOrNil(ms *int64) *time.Time {
	if ms == nil {
		return nil
	}
	t := time.UnixMilli(*ms).UTC()
	return &t
}
