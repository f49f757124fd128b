package account

import (
	"context"
	"time"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/session"
)

// LoginResult is a new admin session.
type LoginResult struct {
	Token       string            `json:"token" doc:"send as Authorization: Bearer, or use the cookie set with it"`
	ExpiresAt   time.Time         `json:"expires_at"`
	Account     Account           `json:"account"`
	Permissions []auth.Permission `json:"permissions"`
}

var errBadLogin = errs.E(errs.Unauthenticated, "invalid_credentials", "wrong username or password")

// Login checks a username and password. Every attempt is counted before
// the check (and given back when right), so failures slow further tries of
// the account from addr, from addr altogether and of the account from
// anywhere (see LoginPerAccount), across every server process, even when
// the guesses come all at once.
func (s *Service) Login(ctx context.Context, username, password, addr string) (LoginResult, error) {
	return s.LoginWith(ctx, username, password, session.Meta{Addr: addr})
}

// LoginWith is Login with the client's address and user agent, kept with
// the session. An account with TOTP gets no session yet: a 401
// second_factor_required carrying a challenge for LoginTOTP.
func (s *Service) LoginWith(ctx context.Context, username, password string, m session.Meta) (LoginResult, error) {
	addr := m.Addr
	res, err := s.reserveLogin(ctx, username, addr)
	if err != nil {
		return LoginResult{}, err
	}
	var id int64
	var hash string
	var disabled bool
	err = s.db.QueryRow(ctx, `SELECT a.id, a.password_hash, a.disabled OR COALESCE(s.disabled, FALSE)
		FROM accounts a LEFT JOIN shops s ON s.id = a.shop_id WHERE a.username = ?`, username).Scan(&id, &hash, &disabled)
	if db.IsNoRows(err) {
		CheckPassword(dummyHash, password) // same cost as a real check
		return LoginResult{}, s.failLogin(ctx, username, addr, res)
	}
	if err != nil {
		return LoginResult{}, errs.Wrap("login", err)
	}
	if !CheckPassword(hash, password) {
		return LoginResult{}, s.failLogin(ctx, username, addr, res)
	}
	s.loginSucceeded(ctx, username, addr)
	if disabled {
		return LoginResult{}, errs.E(errs.Forbidden, "account_disabled", "this account or its shop is disabled")
	}
	on, err := s.TOTPEnabled(ctx, id)
	if err != nil {
		return LoginResult{}, err
	}
	if on {
		return LoginResult{}, s.challenge(ctx, id)
	}
	return s.startSession(ctx, id, m)
}

// challenge answers a right password of an account with TOTP: a token
// (only its hash kept) good for ChallengeTTL and one session.
func (s *Service) challenge(ctx context.Context, accountID int64) error {
	token, err := randomToken()
	if err != nil {
		return errs.Wrap("login challenge", err)
	}
	now := s.now()
	_, _ = s.db.Exec(ctx, `DELETE FROM totp_challenges WHERE expires_at < ?`, now.UnixMilli())
	if _, err := s.db.Exec(ctx, `INSERT INTO totp_challenges (token_hash, account_id, expires_at) VALUES (?, ?, ?)`,
		hashToken(token), accountID, now.Add(ChallengeTTL).UnixMilli()); err != nil {
		return errs.Wrap("login challenge", err)
	}
	return &errs.Error{Kind: errs.Unauthenticated, Code: "second_factor_required", Challenge: token,
		Message: "enter the code of your authenticator app: POST /admin/api/v1/auth/login/totp with this challenge"}
}

var errChallenge = errs.E(errs.Unauthenticated, "challenge_expired", "the login challenge is unknown, used or over 5 minutes old: log in again")

// LoginTOTP is a login's second step: the challenge of a right password
// and a current code (or a recovery code, spent). The challenge is spent
// by the session it starts.
func (s *Service) LoginTOTP(ctx context.Context, challenge, code, recovery string, m session.Meta) (LoginResult, error) {
	if challenge == "" || len(challenge) > 128 {
		return LoginResult{}, errChallenge
	}
	var id int64
	err := s.db.QueryRow(ctx, `SELECT account_id FROM totp_challenges WHERE token_hash = ? AND expires_at > ?`,
		hashToken(challenge), s.now().UnixMilli()).Scan(&id)
	if db.IsNoRows(err) {
		return LoginResult{}, errChallenge
	}
	if err != nil {
		return LoginResult{}, errs.Wrap("login challenge", err)
	}
	if err := s.SecondFactor(ctx, id, code, recovery); err != nil {
		return LoginResult{}, err
	}
	res, err := s.db.Exec(ctx, `DELETE FROM totp_challenges WHERE token_hash = ?`, hashToken(challenge))
	if err != nil {
		return LoginResult{}, errs.Wrap("login challenge", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return LoginResult{}, errChallenge // spent by a concurrent second step
	}
	out, err := s.startSession(ctx, id, m)
	if err != nil {
		return LoginResult{}, err
	}
	// The code just verified covers the step-up window too.
	return out, s.sessions.StepUp(ctx, out.Token)
}

// failLogin answers a wrong password; reserveLogin has counted it already.
func (s *Service) failLogin(ctx context.Context, username, addr string, res reservation) error {
	if err := s.loginFailed(ctx, username, addr, res); err != nil {
		return err
	}
	return errBadLogin
}

func (s *Service) startSession(ctx context.Context, id int64, m session.Meta) (LoginResult, error) {
	var shopID int64
	if err := s.db.QueryRow(ctx, `SELECT COALESCE(shop_id, 0) FROM accounts WHERE id = ?`, id).Scan(&shopID); err != nil {
		return LoginResult{}, errs.Wrap("start session", err)
	}
	a, err := s.Get(ctx, shopID, id)
	if err != nil {
		return LoginResult{}, err
	}
	token, expires, err := s.sessions.CreateWith(ctx, session.Staff, a.ID, a.ShopID, SessionTTL, m)
	if err != nil {
		return LoginResult{}, err
	}
	return LoginResult{Token: token, ExpiresAt: expires.UTC(), Account: a, Permissions: a.Role.Permissions()}, nil
}

// Authenticate turns a staff session token into the caller. Disabled
// accounts and accounts of disabled shops are refused.
func (s *Service) Authenticate(ctx context.Context, token string) (auth.Staff, error) {
	sess, err := s.sessions.Lookup(ctx, session.Staff, token)
	if err != nil {
		return auth.Staff{}, err
	}
	var st auth.Staff
	var disabled bool
	err = s.db.QueryRow(ctx, `SELECT a.id, COALESCE(a.shop_id, 0), a.role, a.username, a.disabled OR COALESCE(s.disabled, FALSE),
			t.enabled_at IS NOT NULL
		FROM accounts a LEFT JOIN shops s ON s.id = a.shop_id LEFT JOIN account_totp t ON t.account_id = a.id WHERE a.id = ?`, sess.SubjectID).
		Scan(&st.AccountID, &st.ShopID, &st.Role, &st.Username, &disabled, &st.TOTPEnabled)
	if db.IsNoRows(err) || disabled {
		return auth.Staff{}, errs.E(errs.Unauthenticated, "unauthenticated", "this account is disabled or gone")
	}
	if err != nil {
		return auth.Staff{}, errs.Wrap("authenticate staff", err)
	}
	st.SessionID = sess.PublicID
	st.SteppedUp = !st.TOTPEnabled || !sess.SteppedUpAt.IsZero() && s.now().Sub(sess.SteppedUpAt) < StepUpWindow
	st.MustEnrol, err = s.MustEnrol(ctx, st)
	return st, err
}

// Logout ends the session of token.
func (s *Service) Logout(ctx context.Context, token string) error {
	return s.sessions.Revoke(ctx, token)
}

// ChangePassword sets a new password after checking the old one, ends every
// session of the account and returns a fresh one.
func (s *Service) ChangePassword(ctx context.Context, accountID int64, oldPassword, newPassword string, m session.Meta) (LoginResult, error) {
	var v errs.Validator
	checkPassword(&v, "new_password", newPassword)
	v.Check(newPassword != oldPassword, "new_password", "must differ from the old password")
	if err := v.Err(); err != nil {
		return LoginResult{}, err
	}
	var hash string
	if err := s.db.QueryRow(ctx, `SELECT password_hash FROM accounts WHERE id = ?`, accountID).Scan(&hash); err != nil {
		return LoginResult{}, errs.Wrap("change password", err)
	}
	if !CheckPassword(hash, oldPassword) {
		return LoginResult{}, errs.Field("old_password", "invalid_credentials", "the old password is wrong")
	}
	if err := s.setPassword(ctx, accountID, newPassword); err != nil {
		return LoginResult{}, err
	}
	if _, err := s.sessions.RevokeSubject(ctx, session.Staff, accountID); err != nil {
		return LoginResult{}, err
	}
	return s.startSession(ctx, accountID, m)
}

// HasOperator reports whether any operator account exists.
func (s *Service) HasOperator(ctx context.Context) (bool, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM accounts WHERE role = 'operator'`).Scan(&n)
	return n > 0, errs.Wrap("count operators", err)
}
