package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Second verification (two-step login) with TOTP, RFC 6238: 30-second
// steps, 6 digits, SHA1 (what authenticator apps support), one step of
// clock skew either way. The secret is kept sealed; a code is accepted
// only for a time step later than the last one accepted (so a code seen
// over a shoulder cannot be used again), and wrong codes are slowed down
// per account like passwords are (LoginFirstWait doubling to CodeMaxWait).
const (
	TOTPIssuer        = "kaidian"
	totpPeriod        = 30
	totpSkew          = 1
	CodeFreeFailures  = 5                // wrong codes before the first wait
	CodeMaxWait       = 15 * time.Minute // the wait's cap
	StepUpWindow      = 5 * time.Minute  // a verified code covers sensitive actions this long
	ChallengeTTL      = 5 * time.Minute  // a login's second step must come within this
	RecoveryCodeCount = 10
)

var (
	errInvalidCode = errs.Field("code", "invalid_code", "the code is wrong (or not 6 digits)")
	errCodeReused  = errs.E(errs.Conflict, "code_reused", "this code was used already: wait for the next one")
	errNotEnabled  = errs.E(errs.Conflict, "totp_not_enabled", "two-step verification is not enabled on this account")
)

// Enrolment is a new TOTP secret, shown once, for the authenticator app.
type Enrolment struct {
	Secret string `json:"secret" doc:"base32, for typing into the app"`
	URL    string `json:"otpauth_url" doc:"otpauth://totp/… for a QR code (it holds the secret)"`
}

// Enrol starts (or restarts) TOTP enrolment of an account without TOTP:
// a new secret, pending until Confirm gets a right code from it.
func (s *Service) Enrol(ctx context.Context, accountID int64) (Enrolment, error) {
	if s.box == nil {
		return Enrolment{}, errs.E(errs.Conflict, "totp_unavailable", "two-step verification is not set up on this server")
	}
	a, err := s.Get(ctx, s.ownShopOf(ctx, accountID), accountID)
	if err != nil {
		return Enrolment{}, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: TOTPIssuer, AccountName: a.Username,
		Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return Enrolment{}, errs.Wrap("totp secret", err)
	}
	sealed, err := s.box.Seal(key.Secret())
	if err != nil {
		return Enrolment{}, errs.Wrap("seal totp secret", err)
	}
	now := s.now().UnixMilli()
	res, err := s.db.Exec(ctx, `INSERT INTO account_totp (account_id, secret, created_at, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET secret = excluded.secret, last_step = 0, updated_at = excluded.updated_at
		WHERE account_totp.enabled_at IS NULL`, accountID, sealed, now, now)
	if err != nil {
		return Enrolment{}, errs.Wrap("enrol totp", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Enrolment{}, errs.E(errs.Conflict, "totp_already_enabled", "two-step verification is on already: disable it first")
	}
	return Enrolment{Secret: key.Secret(), URL: key.URL()}, nil
}

// ownShopOf is the shop account id belongs to (0: none).
func (s *Service) ownShopOf(ctx context.Context, id int64) int64 {
	var shopID int64
	_ = s.db.QueryRow(ctx, `SELECT COALESCE(shop_id, 0) FROM accounts WHERE id = ?`, id).Scan(&shopID)
	return shopID
}

// Confirm turns a pending enrolment on with a right code from the app and
// returns the recovery codes, shown this once (only their hashes are kept).
func (s *Service) Confirm(ctx context.Context, accountID int64, code string) ([]string, error) {
	if err := s.checkCode(ctx, accountID, code, false); err != nil {
		return nil, err
	}
	codes, hashes, err := newRecoveryCodes()
	if err != nil {
		return nil, errs.Wrap("recovery codes", err)
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE account_totp SET enabled_at = ?, updated_at = ? WHERE account_id = ? AND enabled_at IS NULL`,
			s.now().UnixMilli(), s.now().UnixMilli(), accountID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.Conflict, "totp_not_pending", "start with POST /admin/api/v1/auth/totp/enrol")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM account_recovery_codes WHERE account_id = ?`, accountID); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := tx.Exec(ctx, `INSERT INTO account_recovery_codes (account_id, code_hash) VALUES (?, ?)`, accountID, h); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, errs.Wrap("confirm totp", err)
	}
	httpx.Logger(ctx).Info("totp enabled", "account_id", accountID)
	return codes, nil
}

// Disable turns the account's TOTP off after a current code or a recovery
// code.
func (s *Service) Disable(ctx context.Context, accountID int64, code, recovery string) error {
	if err := s.SecondFactor(ctx, accountID, code, recovery); err != nil {
		return err
	}
	if err := s.removeTOTP(ctx, accountID); err != nil {
		return err
	}
	httpx.Logger(ctx).Info("totp disabled", "account_id", accountID)
	return nil
}

func (s *Service) removeTOTP(ctx context.Context, accountID int64) error {
	return errs.Wrap("remove totp", s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM account_recovery_codes WHERE account_id = ?`, accountID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM account_totp WHERE account_id = ?`, accountID)
		return err
	}))
}

// SecondFactor checks a current code, or else a recovery code (spent),
// of an account with TOTP enabled.
func (s *Service) SecondFactor(ctx context.Context, accountID int64, code, recovery string) error {
	if code == "" && recovery != "" {
		return s.useRecoveryCode(ctx, accountID, recovery)
	}
	return s.checkCode(ctx, accountID, code, true)
}

// TOTPEnabled reports whether the account has TOTP on.
func (s *Service) TOTPEnabled(ctx context.Context, accountID int64) (bool, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM account_totp WHERE account_id = ? AND enabled_at IS NOT NULL`, accountID).Scan(&n)
	return n > 0, errs.Wrap("totp status", err)
}

// checkCode verifies code against the account's secret (enabled, or with
// enabled false the pending one). The attempt is counted before the check
// (a compare-and-set, so concurrent guesses cannot pass the limit) and
// forgiven when right; a right code must be of a later step than the last
// accepted (a second compare-and-set), else it is a reuse.
func (s *Service) checkCode(ctx context.Context, accountID int64, code string, enabled bool) error {
	if !sixDigits(code) {
		return errInvalidCode
	}
	secret, lastStep, err := s.totpSecret(ctx, accountID, enabled)
	if err != nil {
		return err
	}
	if err := s.reserveCodeAttempt(ctx, accountID); err != nil {
		return err
	}
	step := matchStep(secret, code, s.now())
	if step == 0 {
		httpx.Logger(ctx).Info("wrong second-factor code", "account_id", accountID)
		return errInvalidCode
	}
	if step <= lastStep {
		return errCodeReused
	}
	res, err := s.db.Exec(ctx, `UPDATE account_totp SET last_step = ?, failures = 0, next_at = 0 WHERE account_id = ? AND last_step < ?`,
		step, accountID, step)
	if err != nil {
		return errs.Wrap("accept code", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errCodeReused // a concurrent request took this step or a later one
	}
	return nil
}

func sixDigits(code string) bool {
	if len(code) != 6 {
		return false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// totpSecret opens the account's secret in the wanted state.
func (s *Service) totpSecret(ctx context.Context, accountID int64, enabled bool) (string, int64, error) {
	var sealed string
	var enabledAt *int64
	var lastStep int64
	err := s.db.QueryRow(ctx, `SELECT secret, enabled_at, last_step FROM account_totp WHERE account_id = ?`, accountID).
		Scan(&sealed, &enabledAt, &lastStep)
	switch {
	case db.IsNoRows(err) && enabled, err == nil && enabled && enabledAt == nil:
		return "", 0, errNotEnabled
	case db.IsNoRows(err), err == nil && !enabled && enabledAt != nil:
		return "", 0, errs.E(errs.Conflict, "totp_not_pending", "start with POST /admin/api/v1/auth/totp/enrol")
	case err != nil:
		return "", 0, errs.Wrap("totp secret", err)
	}
	if s.box == nil {
		return "", 0, errs.E(errs.Conflict, "totp_unavailable", "two-step verification is not set up on this server")
	}
	secret, err := s.box.Open(sealed)
	return secret, lastStep, errs.Wrap("open totp secret", err)
}

// matchStep is the time step (of now ± the skew) whose code is code, or 0.
// Every candidate is computed and compared in constant time, so the answer
// takes as long whichever matched.
func matchStep(secret, code string, now time.Time) int64 {
	cur := now.Unix() / totpPeriod
	var found int64
	for step := cur - totpSkew; step <= cur+totpSkew; step++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0),
			totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			found = step
		}
	}
	return found
}

var errCodeThrottled = errors.New("code attempts throttled")

// reserveCodeAttempt counts one attempt on the account's code count if its
// wait has passed (429 too_many_code_attempts otherwise) and sets the wait
// before the next: 0 for the first CodeFreeFailures, then doubling.
func (s *Service) reserveCodeAttempt(ctx context.Context, accountID int64) error {
	now := s.now()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var failures int
		err := tx.QueryRow(ctx, `UPDATE account_totp SET failures = failures + 1 WHERE account_id = ? AND next_at <= ?
			RETURNING failures`, accountID, now.UnixMilli()).Scan(&failures)
		if db.IsNoRows(err) {
			return errCodeThrottled
		}
		if err != nil {
			return err
		}
		if wait := loginBackoffMax(failures, CodeFreeFailures, CodeMaxWait); wait > 0 {
			_, err = tx.Exec(ctx, `UPDATE account_totp SET next_at = ? WHERE account_id = ?`, now.Add(wait).UnixMilli(), accountID)
		}
		return err
	})
	if errors.Is(err, errCodeThrottled) {
		var next int64
		if err := s.db.QueryRow(ctx, `SELECT next_at FROM account_totp WHERE account_id = ?`, accountID).Scan(&next); err != nil {
			return errs.Wrap("code throttle", err)
		}
		wait := time.Duration(max(next-now.UnixMilli(), 1)) * time.Millisecond
		httpx.Logger(ctx).Warn("second-factor codes throttled", "account_id", accountID, "retry_after_ms", wait.Milliseconds())
		return errs.TooMany("too_many_code_attempts", "too many wrong codes; try again after Retry-After seconds", wait)
	}
	return errs.Wrap("code throttle", err)
}

// useRecoveryCode spends one of the account's recovery codes (each works
// once: a compare-and-set on used_at). Attempts count as code attempts.
func (s *Service) useRecoveryCode(ctx context.Context, accountID int64, code string) error {
	norm := normalizeRecovery(code)
	if len(norm) != recoveryLen {
		return errs.Field("recovery_code", "invalid_code", "the recovery code is wrong")
	}
	if _, _, err := s.totpSecret(ctx, accountID, true); err != nil {
		return err
	}
	if err := s.reserveCodeAttempt(ctx, accountID); err != nil {
		return err
	}
	res, err := s.db.Exec(ctx, `UPDATE account_recovery_codes SET used_at = ? WHERE account_id = ? AND code_hash = ? AND used_at IS NULL`,
		s.now().UnixMilli(), accountID, hashRecovery(norm))
	if err != nil {
		return errs.Wrap("use recovery code", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		httpx.Logger(ctx).Info("wrong recovery code", "account_id", accountID)
		return errs.Field("recovery_code", "invalid_code", "the recovery code is wrong or used already")
	}
	_, err = s.db.Exec(ctx, `UPDATE account_totp SET failures = 0, next_at = 0 WHERE account_id = ?`, accountID)
	httpx.Logger(ctx).Warn("recovery code used", "account_id", accountID)
	return errs.Wrap("use recovery code", err)
}

// Recovery codes: 10 characters of an alphabet without look-alikes (50
// bits), shown as XXXXX-XXXXX; typed with or without the dash, any case.
const (
	recoveryAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789" // 32: a byte mod 32 is unbiased
	recoveryLen      = 10
)

func newRecoveryCodes() (codes, hashes []string, err error) {
	for range RecoveryCodeCount {
		raw := make([]byte, recoveryLen)
		if _, err := rand.Read(raw); err != nil {
			return nil, nil, err
		}
		var b strings.Builder
		for i, c := range raw {
			if i == recoveryLen/2 {
				b.WriteByte('-')
			}
			b.WriteByte(recoveryAlphabet[int(c)%len(recoveryAlphabet)])
		}
		codes = append(codes, b.String())
		hashes = append(hashes, hashRecovery(normalizeRecovery(b.String())))
	}
	return codes, hashes, nil
}

func normalizeRecovery(code string) string {
	if len(code) > 32 {
		return ""
	}
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(code))
}

func hashRecovery(norm string) string {
	sum := sha256.Sum256([]byte("kaidian recovery code:" + norm))
	return hex.EncodeToString(sum[:])
}
