package smsgate

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/sms"
)

var codePattern = regexp.MustCompile(`^[0-9]{6}$`)

func errInvalidPhone(msg string) error { return errs.Field("phone", "invalid_phone", msg) }

// SendCode sends a 6-digit code to phone for m to bind it, from the client
// address addr. One send per phone per Interval (a compare-and-set on the
// phone's slot, so concurrent requests send once), at most PerPhoneDay per
// phone and PerAddressDay per address in 24 hours. A new code kills the
// phone's older ones.
func (s *Service) SendCode(ctx context.Context, m auth.Member, phone, addr string) (BuyerCodeSent, error) {
	if !sms.ValidPhone(phone) {
		return BuyerCodeSent{}, errInvalidPhone("phone must be a mainland mobile number: 11 digits starting 13 to 19")
	}
	rt, err := s.routeFor(ctx, m.ShopID, KindPhoneCode)
	if err != nil {
		return BuyerCodeSent{}, err
	}
	slotAt, err := s.takeSlot(ctx, m.ShopID, phone)
	if err != nil {
		return BuyerCodeSent{}, err
	}
	if err := s.dailyCaps(ctx, m.ShopID, phone, addr); err != nil {
		return BuyerCodeSent{}, err
	}
	code, err := newCode()
	if err != nil {
		return BuyerCodeSent{}, errs.Wrap("new code", err)
	}
	id, err := s.storeCode(ctx, m, phone, code)
	if err != nil {
		return BuyerCodeSent{}, err
	}
	msg := sms.Message{Phone: phone, SignName: rt.signName, Template: rt.template, Params: []sms.Param{{Name: "code", Value: code}}}
	if _, err := s.client.Send(ctx, rt.cred, msg); err != nil {
		s.killCode(ctx, m.ShopID, id)
		if sms.ClassOf(err) == sms.Temporary {
			s.releaseSlot(ctx, m.ShopID, phone, slotAt)
		}
		return BuyerCodeSent{}, sendError(err)
	}
	return BuyerCodeSent{Phone: phone, ExpiresIn: int(s.limits.TTL / time.Second), ResendIn: int(s.limits.Interval / time.Second)}, nil
}

// takeSlot claims phone's send slot: it moves next_send_at forward only
// when it has passed, so of concurrent sends one wins. It returns the new
// next_send_at, or a RateLimited error with the wait.
func (s *Service) takeSlot(ctx context.Context, shopID int64, phone string) (int64, error) {
	now := s.nowMs()
	next := now + s.limits.Interval.Milliseconds()
	if _, err := s.db.Exec(ctx, `INSERT INTO sms_phone_slots (shop_id, phone, next_send_at) VALUES (?, ?, 0)
		ON CONFLICT (shop_id, phone) DO NOTHING`, shopID, phone); err != nil {
		return 0, errs.Wrap("phone slot", err)
	}
	res, err := s.db.Exec(ctx, `UPDATE sms_phone_slots SET next_send_at = ? WHERE shop_id = ? AND phone = ? AND next_send_at <= ?`,
		next, shopID, phone, now)
	if err != nil {
		return 0, errs.Wrap("take phone slot", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return next, nil
	}
	var at int64
	if err := s.db.QueryRow(ctx, `SELECT next_send_at FROM sms_phone_slots WHERE shop_id = ? AND phone = ?`, shopID, phone).Scan(&at); err != nil {
		return 0, errs.Wrap("read phone slot", err)
	}
	return 0, errs.TooMany("code_too_soon", "a code was just sent to this phone; wait Retry-After seconds",
		time.Duration(max(at-now, 1000))*time.Millisecond)
}

// releaseSlot gives the slot back after a send the provider could not make.
func (s *Service) releaseSlot(ctx context.Context, shopID int64, phone string, at int64) {
	s.db.Exec(ctx, `UPDATE sms_phone_slots SET next_send_at = 0 WHERE shop_id = ? AND phone = ? AND next_send_at = ?`, shopID, phone, at)
}

func (s *Service) dailyCaps(ctx context.Context, shopID int64, phone, addr string) error {
	keys := []struct {
		key   string
		limit int
	}{
		{fmt.Sprintf("sms-code:phone:%d:%s", shopID, phone), s.limits.PerPhoneDay},
		{fmt.Sprintf("sms-code:addr:%d:%s", shopID, addr), s.limits.PerAddressDay},
	}
	for _, k := range keys {
		wait, err := s.limiter.Check(ctx, k.key, k.limit, 24*time.Hour)
		if err != nil {
			return errs.Wrap("sms daily cap", err)
		}
		if wait > 0 {
			return errs.TooMany("code_daily_limit", "too many codes today for this phone or address; wait Retry-After seconds", wait)
		}
	}
	return nil
}

func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// codeHash is what is stored of a code: an HMAC bound to the shop and phone.
func (s *Service) codeHash(shopID int64, phone, code string) string {
	mac := hmac.New(sha256.New, s.codeKey)
	mac.Write([]byte(strconv.FormatInt(shopID, 10) + ":" + phone + ":" + code))
	return hex.EncodeToString(mac.Sum(nil))
}

func (s *Service) storeCode(ctx context.Context, m auth.Member, phone, code string) (int64, error) {
	now := s.nowMs()
	var id int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE sms_codes SET state = 'dead' WHERE shop_id = ? AND phone = ? AND state = 'live'`,
			m.ShopID, phone); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO sms_codes (shop_id, member_id, phone, code_hash, expires_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, m.ShopID, m.ID, phone, s.codeHash(m.ShopID, phone, code),
			now+s.limits.TTL.Milliseconds(), now).Scan(&id)
	})
	if err != nil {
		return 0, errs.Wrap("store code", err)
	}
	return id, nil
}

func (s *Service) killCode(ctx context.Context, shopID, id int64) {
	s.db.Exec(ctx, `UPDATE sms_codes SET state = 'dead' WHERE shop_id = ? AND id = ? AND state = 'live'`, shopID, id)
}

// sendError turns a provider's refusal into the buyer's answer.
func sendError(err error) error {
	switch sms.ClassOf(err) {
	case sms.InvalidNumber:
		return errInvalidPhone("the SMS provider refused this number")
	case sms.Throttled:
		return errs.TooMany("sms_throttled", "the SMS provider is limiting messages to this number; try again later", time.Hour)
	case sms.Temporary:
		return &errs.Error{Kind: errs.Unavailable, Code: "sms_unavailable", Message: "the SMS provider did not answer; try again", Err: err}
	}
	return &errs.Error{Kind: errs.Conflict, Code: "sms_refused", Message: "the SMS provider refused the message: the shop's SMS settings need attention", Err: err}
}

// liveCode is the newest code sent to phone for a member.
type liveCode struct {
	id, expiresAt int64
	tries         int
	state, hash   string
}

// VerifyCode checks code against the newest code sent to phone for m and,
// when it matches, binds phone to m. Each answer spends one of the code's
// tries (a compare-and-set, so concurrent guesses cannot exceed them); the
// last wrong one kills it. Hashes are compared in constant time.
func (s *Service) VerifyCode(ctx context.Context, m auth.Member, phone, code string) (BuyerPhone, error) {
	if !sms.ValidPhone(phone) {
		return BuyerPhone{}, errInvalidPhone("phone must be a mainland mobile number: 11 digits starting 13 to 19")
	}
	if !codePattern.MatchString(code) {
		return BuyerPhone{}, errs.Field("code", "invalid_code", "code must be the 6 digits sent by SMS")
	}
	c, err := s.newestCode(ctx, m, phone)
	if err != nil {
		return BuyerPhone{}, err
	}
	// This answer's try, numbered by the compare-and-set itself, so that
	// concurrent guesses each learn their own count.
	var tries int
	err = s.db.QueryRow(ctx, `UPDATE sms_codes SET tries = tries + 1
		WHERE shop_id = ? AND id = ? AND state = 'live' AND tries < ? AND expires_at > ? RETURNING tries`,
		m.ShopID, c.id, s.limits.Tries, s.nowMs()).Scan(&tries)
	if db.IsNoRows(err) {
		return BuyerPhone{}, s.deadCodeError(ctx, m, phone)
	}
	if err != nil {
		return BuyerPhone{}, errs.Wrap("count try", err)
	}
	if !hmac.Equal([]byte(c.hash), []byte(s.codeHash(m.ShopID, phone, code))) {
		return BuyerPhone{}, s.wrongCode(ctx, m, phone, c.id, tries)
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := db.ExpectOne(tx.Exec(ctx, `UPDATE sms_codes SET state = 'used' WHERE shop_id = ? AND id = ? AND state = 'live'`,
			m.ShopID, c.id)); err != nil {
			return err
		}
		return s.members.SetPhoneTx(ctx, tx, m.ShopID, m.ID, phone)
	})
	if db.IsNoRows(err) {
		return BuyerPhone{}, errNoCode
	}
	if err != nil {
		return BuyerPhone{}, errs.Wrap("bind phone", err)
	}
	return BuyerPhone{Phone: phone}, nil
}

var errNoCode = errs.Field("code", "code_not_found", "no live code was sent to this phone for you; ask for one")

func (s *Service) newestCode(ctx context.Context, m auth.Member, phone string) (liveCode, error) {
	var c liveCode
	err := s.db.QueryRow(ctx, `SELECT id, expires_at, tries, state, code_hash FROM sms_codes
		WHERE shop_id = ? AND phone = ? AND member_id = ? ORDER BY id DESC LIMIT 1`, m.ShopID, phone, m.ID).
		Scan(&c.id, &c.expiresAt, &c.tries, &c.state, &c.hash)
	if db.IsNoRows(err) {
		return c, errNoCode
	}
	if err != nil {
		return c, errs.Wrap("load code", err)
	}
	return c, nil
}

// deadCodeError says why the newest code took no try: used up, expired,
// used or replaced.
func (s *Service) deadCodeError(ctx context.Context, m auth.Member, phone string) error {
	c, err := s.newestCode(ctx, m, phone)
	if err != nil {
		return err
	}
	switch {
	case c.tries >= s.limits.Tries:
		return s.exhausted(ctx, m.ShopID, phone)
	case c.state == "live" && c.expiresAt <= s.nowMs():
		return errs.Field("code", "code_expired", "the code expired; ask for a new one")
	}
	return errNoCode
}

// wrongCode answers a wrong guess; the last allowed one kills the code.
func (s *Service) wrongCode(ctx context.Context, m auth.Member, phone string, id int64, tries int) error {
	if tries >= s.limits.Tries {
		s.killCode(ctx, m.ShopID, id)
		return s.exhausted(ctx, m.ShopID, phone)
	}
	return errs.Field("code", "wrong_code", fmt.Sprintf("the code is wrong; %d tries left", s.limits.Tries-tries))
}

// exhausted is the answer for a code whose tries are used up: a new one
// can be sent once the phone's slot opens.
func (s *Service) exhausted(ctx context.Context, shopID int64, phone string) error {
	var at int64
	s.db.QueryRow(ctx, `SELECT next_send_at FROM sms_phone_slots WHERE shop_id = ? AND phone = ?`, shopID, phone).Scan(&at)
	wait := time.Duration(max(at-s.nowMs(), 1000)) * time.Millisecond
	return errs.TooMany("code_exhausted", "too many wrong codes: this code is dead; ask for a new one after Retry-After seconds", wait)
}
