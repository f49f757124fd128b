package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
	"github.com/kaidian/kaidian/internal/platform/secretbox"
	"github.com/kaidian/kaidian/internal/platform/session"
)

// UseTOTP turns second verification on: box seals the secrets; with
// required, owners and operators (and every role of a shop that asks for
// it) must enrol before they can do anything else. serve requires it by
// default; the demo and tests do not (--require-totp).
func (s *Service) UseTOTP(box *secretbox.Box, required bool) {
	s.box, s.requireTOTP = box, required
}

// SetClock replaces the clock (tests: codes of a chosen time step).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// MustEnrol reports whether st must enrol TOTP before acting: the server
// requires it, st has none, and st is an owner or operator or its shop
// requires it of every role. st.Role is the role acted with (an agency's
// role in the shop it names).
func (s *Service) MustEnrol(ctx context.Context, st auth.Staff) (bool, error) {
	if !s.requireTOTP || st.TOTPEnabled {
		return false, nil
	}
	switch st.Role {
	case auth.RoleOwner, auth.RoleOperator:
		return true, nil
	case auth.RoleAgency:
		return false, nil // no shop named: it may only see its shops
	}
	p, err := s.Policy(ctx, st.ShopID)
	return p.AllRoles, err
}

// Policy is a shop's second-verification policy.
type Policy struct {
	AllRoles bool `json:"all_roles" doc:"every role of the shop must use two-step verification (owners must anyway where the server requires it)"`
}

// Policy returns shopID's policy.
func (s *Service) Policy(ctx context.Context, shopID int64) (Policy, error) {
	var p Policy
	err := s.db.QueryRow(ctx, `SELECT totp_all_roles FROM shop_security WHERE shop_id = ?`, shopID).Scan(&p.AllRoles)
	if db.IsNoRows(err) {
		return Policy{}, nil
	}
	return p, errs.Wrap("totp policy", err)
}

// SetPolicy sets shopID's policy.
func (s *Service) SetPolicy(ctx context.Context, shopID int64, p Policy) (Policy, error) {
	_, err := s.db.Exec(ctx, `INSERT INTO shop_security (shop_id, totp_all_roles, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (shop_id) DO UPDATE SET totp_all_roles = excluded.totp_all_roles, updated_at = excluded.updated_at`,
		shopID, p.AllRoles, s.now().UnixMilli())
	return p, errs.Wrap("set totp policy", err)
}

// StepUp verifies a code on the session of token: for the next
// StepUpWindow its sensitive actions need no other.
func (s *Service) StepUp(ctx context.Context, st auth.Staff, token, code string) (time.Time, error) {
	if !st.TOTPEnabled {
		return time.Time{}, errNotEnabled
	}
	if err := s.checkCode(ctx, st.AccountID, code, true); err != nil {
		return time.Time{}, err
	}
	if err := s.sessions.StepUp(ctx, token); err != nil {
		return time.Time{}, err
	}
	return s.now().Add(StepUpWindow).UTC(), nil
}

// errStepUp refuses a sensitive action without a recent second verification.
var errStepUp = errs.E(errs.Forbidden, "second_factor_required",
	"confirm it is you: send a current code in X-Kaidian-OTP, or POST /admin/api/v1/auth/totp/verify first")

// StepUpGuard is httpx.Guards.StepUp: a code in X-Kaidian-OTP steps the
// session up; a required step-up without one (and none within
// StepUpWindow) is refused. Staff without TOTP pass: nothing to verify.
func (s *Service) StepUpGuard(r *http.Request, required bool) (*http.Request, error) {
	st, _ := auth.StaffFrom(r.Context())
	if code := r.Header.Get("X-Kaidian-OTP"); code != "" && !st.SteppedUp {
		if _, err := s.StepUp(r.Context(), st, SessionToken(r), code); err != nil {
			return r, err
		}
		st.SteppedUp = true
		r = r.WithContext(auth.WithStaff(r.Context(), st))
	}
	if required && !st.SteppedUp {
		return r, errStepUp
	}
	return r, nil
}

// ErrStepUp is errStepUp for handlers that ask for a step-up themselves
// (httpx.Route.MayStepUp).
func ErrStepUp() error { return errStepUp }

// ResetTOTP removes the TOTP of staff account id of shopID (a lost device
// without recovery codes) and ends its sessions; by owners and operators,
// never on their own account. Logged, without secrets.
func (s *Service) ResetTOTP(ctx context.Context, actor auth.Staff, shopID, id int64) error {
	if id == actor.AccountID {
		return errs.E(errs.Conflict, "cannot_change_self", "turn your own two-step verification off with a code: POST /admin/api/v1/auth/totp/disable")
	}
	if _, err := s.Get(ctx, shopID, id); err != nil {
		return err
	}
	if err := s.removeTOTP(ctx, id); err != nil {
		return err
	}
	if _, err := s.sessions.RevokeSubject(ctx, session.Staff, id); err != nil {
		return err
	}
	httpx.Logger(ctx).Warn("totp reset", "account_id", id, "shop_id", shopID, "by_account_id", actor.AccountID, "by_role", string(actor.Role))
	return nil
}

// Sessions lists the live sessions of st's account.
func (s *Service) Sessions(ctx context.Context, st auth.Staff, token string) ([]session.Listed, error) {
	list, err := s.sessions.List(ctx, session.Staff, st.AccountID, token)
	if list == nil {
		list = []session.Listed{}
	}
	return list, err
}

// RevokeSession ends one of st's sessions by its public id.
func (s *Service) RevokeSession(ctx context.Context, st auth.Staff, id int64) error {
	ok, err := s.sessions.RevokeID(ctx, session.Staff, st.AccountID, id)
	if err == nil && !ok {
		err = errs.E(errs.NotFound, "session_not_found", "no such session of yours")
	}
	return err
}

func randomToken() (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
