// Package contentsale sells paid content (courses, packages, membership
// plans, camps) through WeChat virtual payment (虚拟支付, "xpay"), which a
// mini program must use for virtual goods. An order names one target; its
// price is the content room's Offer (what the buyer is shown is what is
// charged) mapped to the xpay item (道具) registered at that price. The
// entitlement is granted once, in the transaction that marks the order
// paid, and only after WeChat's own record (query_order) says it is paid:
// the delivery push is a prompt to ask, never the proof. Refunds go
// through xpay's refund API; access ends when WeChat accepts the refund.
//
// The content room owns entitlements; this room reaches it, the camps and
// WeChat only through the interfaces below, which internal/server fills.
package contentsale

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/secretbox"
)

// Target kinds an order can buy.
const (
	KindCourse  = "course"
	KindPackage = "package"
	KindPlan    = "plan"
	KindCamp    = "camp"
)

// Offer is what a target costs a member now (the content room's answer).
type Offer struct {
	TargetKind string
	TargetID   int64
	Title      string
	ListFen    int64
	PriceFen   int64
	Days       int // how long the access lasts; 0 = no end
}

// Offers prices targets: the same function for the preview and the order.
// It answers errs NotFound for what does not exist or is not for sale.
type Offers interface {
	Offer(ctx context.Context, shopID, memberID int64, kind string, id int64) (Offer, error)
}

// Grant asks the content room for an entitlement.
type Grant struct {
	ShopID, MemberID int64
	TargetKind       string
	TargetID         int64
	Source           string // purchase | membership | gift | trial
	SourceRef        string // unique per shop: the same ref never grants twice
	Days             int
	By, Note         string
}

// Entitlements is the content room's ledger of who may see what. GrantTx
// is idempotent by SourceRef (created=false the second time).
type Entitlements interface {
	GrantTx(ctx context.Context, tx *db.Tx, g Grant) (created bool, err error)
	RevokeTx(ctx context.Context, tx *db.Tx, shopID int64, sourceRef, reason, by string) error
}

// Consumption says how much of a target a member has used, in percent
// (refunds are refused above the shop's limit). Nil counts as 0.
type Consumption interface {
	Consumed(ctx context.Context, shopID, memberID int64, kind string, id int64) (percent int, err error)
}

// Keys are a shop's xpay credentials: the offer (OfferID) and the AppKey of
// each environment (0 production, 1 sandbox).
type Keys struct {
	OfferID, AppKey, SandboxAppKey string
}

// PayRequest is what the mini program passes to wx.requestVirtualPayment.
type PayRequest struct {
	OfferID    string
	Env        int
	ProductID  string
	GoodsPrice int64
	Quantity   int
	OutTradeNo string
	Attach     string
}

// PayParams are the signed arguments of wx.requestVirtualPayment.
type PayParams struct {
	Mode      string `json:"mode" doc:"short_series_goods (an item bought directly)"`
	SignData  string `json:"signData" doc:"pass through byte for byte: re-stringifying it breaks the signature"`
	PaySig    string `json:"paySig"`
	Signature string `json:"signature"`
}

// PayOrder is WeChat's record of an xpay order (query_order).
type PayOrder struct {
	Found     bool  // false: WeChat has no such order (never paid)
	Status    int   // 0 init, 1 created, 2 paid, 3 delivering, 4 delivered, 5 refunded, 6 closed, 7 refund failed
	PaidFee   int64 // fen
	WxOrderID string
}

// Paid says whether WeChat holds the money for this order.
func (o PayOrder) Paid() bool { return o.Found && o.Status >= 2 && o.Status <= 4 }

// RefundRequest asks xpay to refund an order.
type RefundRequest struct {
	OpenID, OutTradeNo, RefundNo string
	LeftFee, RefundFee           int64
	Reason                       string // "0"–"5"
	ReqFrom                      string // "1" customer service, "2" the user, "3" other
	Env                          int
}

// ErrRefused marks WeChat's definite refusal (a parameter, a signature, an
// unknown order): asking again will not change it. Any other error from a
// Gateway is an unknown outcome, asked again later.
var ErrRefused = errors.New("xpay refused the request")

// Gateway is WeChat's xpay for a shop.
type Gateway interface {
	Sign(p PayRequest, keys Keys, sessionKey string) (PayParams, error)
	Query(ctx context.Context, shopID int64, keys Keys, env int, openid, outTradeNo string) (PayOrder, error)
	Refund(ctx context.Context, shopID int64, keys Keys, r RefundRequest) error
	Provided(ctx context.Context, shopID int64, keys Keys, env int, outTradeNo string) error
}

// Service sells content.
type Service struct {
	db       *db.DB
	box      *secretbox.Box
	offers   Offers
	rights   Entitlements
	pay      Gateway
	consumed Consumption
	log      *slog.Logger
	now      func() time.Time
}

// NewService builds the sale room. consumed may be nil.
func NewService(d *db.DB, box *secretbox.Box, offers Offers, rights Entitlements, pay Gateway, consumed Consumption, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{db: d, box: box, offers: offers, rights: rights, pay: pay, consumed: consumed, log: log, now: time.Now}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// SaveSessionKey keeps a member's latest session_key (sealed): xpay signs
// the buyer's payment with it. Called after each wx.login.
func (s *Service) SaveSessionKey(ctx context.Context, shopID, memberID int64, sessionKey string) error {
	if sessionKey == "" {
		return nil
	}
	sealed, err := s.box.Seal(sessionKey)
	if err != nil {
		return err
	}
	_, err = s.db.Exec(ctx, `INSERT INTO xpay_session_keys (shop_id, member_id, session_key, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (shop_id, member_id) DO UPDATE SET session_key = excluded.session_key, updated_at = excluded.updated_at`,
		shopID, memberID, sealed, s.now().UnixMilli())
	return errs.Wrap("save session key", err)
}

func (s *Service) sessionKey(ctx context.Context, shopID, memberID int64) (string, error) {
	var sealed string
	err := s.db.QueryRow(ctx, `SELECT session_key FROM xpay_session_keys WHERE shop_id = ? AND member_id = ?`, shopID, memberID).Scan(&sealed)
	if db.IsNoRows(err) {
		return "", errSessionKey
	}
	if err != nil {
		return "", errs.Wrap("read session key", err)
	}
	key, err := s.box.Open(sealed)
	if err != nil {
		return "", errSessionKey
	}
	return key, nil
}

var errSessionKey = errs.E(errs.Conflict, "session_key_missing",
	"WeChat's session for this buyer is not known here: call wx.login and log in again, then pay")

func (s *Service) openID(ctx context.Context, q db.Querier, shopID, memberID int64) (string, error) {
	var openid string
	err := q.QueryRow(ctx, `SELECT openid FROM members WHERE shop_id = ? AND id = ?`, shopID, memberID).Scan(&openid)
	if db.IsNoRows(err) {
		return "", errs.E(errs.NotFound, "member_not_found", "no such member")
	}
	return openid, errs.Wrap("read openid", err)
}
