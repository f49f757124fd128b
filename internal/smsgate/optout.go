package smsgate

import (
	"context"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/sms"
)

// Optout is a member who unsubscribed from marketing SMS, as staff see it.
type Optout struct {
	MemberID  int64     `json:"member_id"`
	Phone     string    `json:"phone" doc:"masked"`
	Source    string    `json:"source" enum:"buyer,reply" doc:"buyer: from the mini program; reply: staff recorded a T reply"`
	CreatedAt time.Time `json:"created_at"`
}

// ReplyInput records a buyer's reply to a marketing SMS.
type ReplyInput struct {
	Phone string `json:"phone" doc:"the number the reply came from"`
	Reply string `json:"reply" doc:"the reply's text: T, TD or 退订 unsubscribe"`
}

// ReplyResult lists the members the reply unsubscribed.
type ReplyResult struct {
	Unsubscribed []int64 `json:"unsubscribed" doc:"member ids with this phone"`
}

// Unsubscribe stops marketing SMS to a member (idempotent).
func (s *Service) Unsubscribe(ctx context.Context, shopID, memberID int64) (BuyerSMS, error) {
	if err := s.optOut(ctx, s.db, shopID, memberID, "buyer"); err != nil {
		return BuyerSMS{}, err
	}
	return BuyerSMS{Unsubscribed: true}, nil
}

func (s *Service) optOut(ctx context.Context, q db.Querier, shopID, memberID int64, source string) error {
	_, err := q.Exec(ctx, `INSERT INTO sms_optouts (shop_id, member_id, source, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (shop_id, member_id) DO NOTHING`, shopID, memberID, source, s.nowMs())
	if err != nil {
		return errs.Wrap("sms opt-out", err)
	}
	return nil
}

// Preferences returns the member's SMS preferences.
func (s *Service) Preferences(ctx context.Context, shopID, memberID int64) (BuyerSMS, error) {
	out, err := s.OptedOut(ctx, s.db, shopID, memberID)
	return BuyerSMS{Unsubscribed: out}, err
}

// OptedOut reports whether the member unsubscribed from marketing SMS.
func (s *Service) OptedOut(ctx context.Context, q db.Querier, shopID, memberID int64) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM sms_optouts WHERE shop_id = ? AND member_id = ?`, shopID, memberID).Scan(&n)
	if err != nil {
		return false, errs.Wrap("read sms opt-out", err)
	}
	return n > 0, nil
}

// unsubscribeReplies are the replies that unsubscribe (退订回T and its
// usual variants).
var unsubscribeReplies = []string{"T", "TD", "N", "R", "退订", "拒收"}

// RecordReply records a reply to a marketing SMS: an unsubscribe reply
// opts out every member of the shop with that phone.
func (s *Service) RecordReply(ctx context.Context, shopID int64, in ReplyInput) (ReplyResult, error) {
	phone, reply := strings.TrimSpace(in.Phone), strings.ToUpper(strings.TrimSpace(in.Reply))
	var v errs.Validator
	v.Check(sms.ValidPhone(phone), "phone", "must be a mainland mobile number")
	ok := false
	for _, r := range unsubscribeReplies {
		ok = ok || reply == r
	}
	v.Check(ok, "reply", "must be an unsubscribe reply: T, TD, N, R, 退订 or 拒收")
	if err := v.Err(); err != nil {
		return ReplyResult{}, err
	}
	ids, err := db.All(ctx, s.db, func(r db.Scanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, `SELECT id FROM members WHERE shop_id = ? AND phone = ? ORDER BY id`, shopID, phone)
	if err != nil {
		return ReplyResult{}, errs.Wrap("members by phone", err)
	}
	if len(ids) == 0 {
		return ReplyResult{}, errs.E(errs.NotFound, "member_not_found", "no member of the shop has this phone")
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, id := range ids {
			if err := s.optOut(ctx, tx, shopID, id, "reply"); err != nil {
				return err
			}
		}
		return nil
	})
	return ReplyResult{Unsubscribed: ids}, err
}

// Optouts lists the shop's opt-outs, newest member id first, after cursor.
func (s *Service) Optouts(ctx context.Context, shopID, after int64, limit int) ([]Optout, error) {
	if after <= 0 {
		after = 1 << 62
	}
	return db.All(ctx, s.db, func(r db.Scanner) (Optout, error) {
		var o Optout
		var at int64
		err := r.Scan(&o.MemberID, &o.Phone, &o.Source, &at)
		o.Phone, o.CreatedAt = maskPhone(o.Phone), time.UnixMilli(at).UTC()
		return o, err
	}, `SELECT o.member_id, m.phone, o.source, o.created_at FROM sms_optouts o
		JOIN members m ON m.id = o.member_id AND m.shop_id = o.shop_id
		WHERE o.shop_id = ? AND o.member_id < ? ORDER BY o.member_id DESC LIMIT ?`, shopID, after, limit+1)
}

// maskPhone hides the middle of a phone: 13800138000 → 138****8000.
func maskPhone(p string) string {
	if len(p) != 11 {
		return ""
	}
	return p[:3] + "****" + p[7:]
}

// Phone is the member's bound phone, "" when none (or no such member).
func (s *Service) Phone(ctx context.Context, shopID, memberID int64) (string, error) {
	var p string
	err := s.db.QueryRow(ctx, `SELECT phone FROM members WHERE shop_id = ? AND id = ?`, shopID, memberID).Scan(&p)
	if db.IsNoRows(err) {
		return "", nil
	}
	if err != nil {
		return "", errs.Wrap("member phone", err)
	}
	if !sms.ValidPhone(p) {
		return "", nil // a number SMS cannot reach (WeChat binds foreign numbers too)
	}
	return p, nil
}

// OptOut puts the member on the marketing opt-out list through q (the
// privacy room's withdrawal of marketing consent).
func (s *Service) OptOut(ctx context.Context, q db.Querier, shopID, memberID int64) error {
	return s.optOut(ctx, q, shopID, memberID, "buyer")
}

// OptIn takes the member off the list through q: they gave marketing
// consent again in the app (a T reply before it is overruled by it).
func (s *Service) OptIn(ctx context.Context, q db.Querier, shopID, memberID int64) error {
	_, err := q.Exec(ctx, `DELETE FROM sms_optouts WHERE shop_id = ? AND member_id = ?`, shopID, memberID)
	return errs.Wrap("sms opt-in", err)
}
