// Package smsgate is the shops' SMS (issue 15, second increment): each
// shop's account at Aliyun or Tencent Cloud (the secret sealed with
// secretbox, shown masked), its sign name and a template per message kind;
// sending through them (platform/sms); phone verification codes for
// binding a phone to a member; and the opt-out list of members who
// unsubscribed from marketing SMS (退订回T). Messaging uses it as a
// channel. It imports only platform/*; the member's phone is written
// through its Members interface.
package smsgate

import (
	"context"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/ratelimit"
	"github.com/kaidian/kaidian/internal/platform/secretbox"
	"github.com/kaidian/kaidian/internal/platform/sms"
)

// Members writes and reads members' phones (member.Service).
type Members interface {
	// SetPhoneTx stores a phone the member proved, in tx.
	SetPhoneTx(ctx context.Context, tx *db.Tx, shopID, memberID int64, phone string) error
}

// Limits bound verification codes.
type Limits struct {
	Interval      time.Duration // between two sends to one phone (60 s)
	TTL           time.Duration // a code's life (5 minutes)
	Tries         int           // wrong answers a code takes before it dies (5)
	PerPhoneDay   int           // sends per phone per 24 h (10, Aliyun's default)
	PerAddressDay int           // sends per client address per 24 h (20)
}

// DefaultLimits are the limits.
var DefaultLimits = Limits{Interval: time.Minute, TTL: 5 * time.Minute, Tries: 5, PerPhoneDay: 10, PerAddressDay: 20}

// Service is the SMS gateway.
type Service struct {
	db      *db.DB
	box     *secretbox.Box
	client  *sms.Client
	limiter *ratelimit.Limiter
	members Members
	codeKey []byte // HMAC key of stored codes
	limits  Limits
	now     func() time.Time
}

// NewService returns the gateway; secrets are sealed with box, messages go
// through client.
func NewService(d *db.DB, box *secretbox.Box, client *sms.Client, limiter *ratelimit.Limiter, members Members) *Service {
	return &Service{db: d, box: box, client: client, limiter: limiter, members: members,
		codeKey: box.DeriveKey("sms-verification-codes"), limits: DefaultLimits, now: time.Now}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// SetLimits replaces the code limits (tests, the demo).
func (s *Service) SetLimits(l Limits) { s.limits = l }

func (s *Service) nowMs() int64 { return s.now().UnixMilli() }
