// Package wxpush receives WeChat's message pushes (消息推送) for every shop
// at /webhooks/wechat/{shop id}/push: it answers WeChat's URL check,
// verifies each push with the shop's Token (and opens it with its
// EncodingAESKey in safe mode), and hands the event to the domain package
// that registered for it. Handlers must be idempotent: WeChat repeats a
// push until it is acknowledged.
package wxpush

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/wechat"
	"github.com/kaidian/kaidian/internal/shop"
)

// Handler takes one verified push of the event it registered for.
type Handler func(ctx context.Context, shopID int64, p wechat.Push) error

// Shops gives a shop and its secrets (shop.Service).
type Shops interface {
	Get(ctx context.Context, id int64) (shop.Shop, error)
	Secrets(ctx context.Context, id int64) (shop.Secrets, error)
}

// Service verifies pushes and dispatches them.
type Service struct {
	shops    Shops
	log      *slog.Logger
	mu       sync.RWMutex
	handlers map[string]registered
}

type registered struct {
	h   Handler
	ack string // the answer once handled; "" = wechat.PushAck
}

// NewService returns the service.
func NewService(shops Shops, log *slog.Logger) *Service {
	return &Service{shops: shops, log: log, handlers: map[string]registered{}}
}

// Handle registers h for pushes whose Event (or, for messages that are
// not events, MsgType) is event.
func (s *Service) Handle(event string, h Handler) { s.HandleAck(event, h, "") }

// HandleAck registers h for event, answering ack once it is handled: some
// pushes want their own answer (virtual payment's {"ErrCode":0,…}; anything
// else makes WeChat push again).
func (s *Service) HandleAck(event string, h Handler, ack string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers[event] = registered{h: h, ack: ack}
}

var errNotConfigured = errs.E(errs.Conflict, "push_not_configured", "this shop has no message-push Token set")

// config is the shop's push settings.
func (s *Service) config(ctx context.Context, shopID int64) (wechat.PushConfig, error) {
	sh, err := s.shops.Get(ctx, shopID)
	if err != nil {
		return wechat.PushConfig{}, err
	}
	sec, err := s.shops.Secrets(ctx, shopID)
	if err != nil {
		return wechat.PushConfig{}, err
	}
	if sec.PushToken == "" {
		return wechat.PushConfig{}, errNotConfigured
	}
	return wechat.PushConfig{AppID: sh.AppID, Token: sec.PushToken, EncodingAESKey: sec.PushAESKey}, nil
}

// Receive verifies a push and runs its handler, returning the answer
// WeChat expects once it is handled. A push nobody handles is logged and
// acknowledged (WeChat adds events; a new one must not be retried forever).
func (s *Service) Receive(ctx context.Context, shopID int64, query map[string][]string, body []byte) (string, error) {
	cfg, err := s.config(ctx, shopID)
	if err != nil {
		return "", err
	}
	p, err := wechat.OpenPush(cfg, query, body)
	if err != nil {
		return "", pushError(err)
	}
	name := p.Event
	if name == "" {
		name = p.MsgType
	}
	s.mu.RLock()
	reg, ok := s.handlers[name]
	s.mu.RUnlock()
	if !ok {
		s.log.Info("WeChat push with no handler", "shop", shopID, "event", name)
		return wechat.PushAck, nil
	}
	if err := reg.h(ctx, shopID, p); err != nil {
		return "", err
	}
	if reg.ack == "" {
		return wechat.PushAck, nil
	}
	return reg.ack, nil
}

// VerifyURL answers WeChat's check of the push URL with the echostr.
func (s *Service) VerifyURL(ctx context.Context, shopID int64, query map[string][]string) (string, error) {
	cfg, err := s.config(ctx, shopID)
	if err != nil {
		return "", err
	}
	echo, err := wechat.VerifyPushURL(cfg, query)
	return echo, pushError(err)
}

func pushError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, wechat.ErrPushSignature):
		return errs.E(errs.Unauthenticated, "push_signature_invalid", "the push's signature does not verify with this shop's Token")
	case errors.Is(err, wechat.ErrPushMalformed):
		return errs.E(errs.Invalid, "push_malformed", "the push is not a WeChat message")
	default: // the stored EncodingAESKey cannot be used
		return errs.E(errs.Conflict, "push_not_configured", err.Error())
	}
}
