// Package account manages admin accounts: operators, who run the deployment,
// and shop staff with a role. It logs them in and out with rate limits.
package account

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/secretbox"
	"github.com/kaidian/kaidian/internal/platform/session"
)

// Account is an admin account as the API shows it (never its hash).
type Account struct {
	ID          int64     `json:"id"`
	ShopID      int64     `json:"shop_id" doc:"0 for operators"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Role        auth.Role `json:"role" doc:"owner, operations, service (客服, customer service) or finance; operator for the deployment's operators"`
	Disabled    bool      `json:"disabled"`
	TOTPEnabled bool      `json:"totp_enabled" doc:"two-step verification (TOTP) is on"`
	CreatedAt   time.Time `json:"created_at"`
}

const (
	SessionTTL       = 12 * time.Hour
	minPasswordRunes = 8
)

// Service stores accounts and their sessions.
type Service struct {
	db       *db.DB
	sessions *session.Store
	now      func() time.Time

	box         *secretbox.Box // seals TOTP secrets (nil: TOTP unavailable)
	requireTOTP bool           // owners and operators must enrol (UseTOTP)
}

// NewService returns the account service. Logins are throttled in the
// database (see LoginPerAccount), not by the limiter.
func NewService(d *db.DB, sessions *session.Store) *Service {
	return &Service{db: d, sessions: sessions, now: time.Now}
}

var usernamePattern = regexp.MustCompile(`^[a-zA-Z0-9_.@-]{3,40}$`)

// NewAccount is what is needed to create an account.
type NewAccount struct {
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Password    string    `json:"password"`
	Role        auth.Role `json:"role" doc:"owner, operations, service (客服, customer service) or finance; operator for the deployment's operators"`
}

func (n NewAccount) validate(noShop bool) error {
	var v errs.Validator
	v.Check(usernamePattern.MatchString(n.Username), "username", "must be 3 to 40 letters, digits or _.@-")
	v.Check(len([]rune(n.DisplayName)) <= 40, "display_name", "must be at most 40 characters")
	checkPassword(&v, "password", n.Password)
	if noShop {
		v.Check(n.Role == auth.RoleOperator || n.Role == auth.RoleAgency, "role", "must be operator")
	} else {
		v.Check(auth.ValidShopRole(n.Role), "role", "must be owner, operations, service or finance")
	}
	return v.Err()
}

func checkPassword(v *errs.Validator, field, pw string) {
	n := len([]rune(pw))
	v.Check(n >= minPasswordRunes && len(pw) <= 128, field, "must be 8 to 128 characters")
}

// CreateOperator adds an operator admin.
func (s *Service) CreateOperator(ctx context.Context, n NewAccount) (Account, error) {
	n.Role = auth.RoleOperator
	if err := n.validate(true); err != nil {
		return Account{}, err
	}
	return s.insert(ctx, 0, n)
}

// CreateAgency adds an agency account: it belongs to no shop and acts on
// the shops operators grant it (package agency).
func (s *Service) CreateAgency(ctx context.Context, n NewAccount) (Account, error) {
	n.Role = auth.RoleAgency
	if err := n.validate(true); err != nil {
		return Account{}, err
	}
	return s.insert(ctx, 0, n)
}

// ListRole returns a page of the accounts with role that belong to no shop
// (operators or agencies), oldest first: ids above after, up to limit+1.
func (s *Service) ListRole(ctx context.Context, role auth.Role, after int64, limit int) ([]Account, error) {
	out, err := db.All(ctx, s.db, scanAccount, `SELECT `+accountColumns+` FROM accounts WHERE shop_id IS NULL AND role = ? AND id > ?
		ORDER BY id LIMIT ?`, role, after, limit+1)
	return out, errs.Wrap("list accounts", err)
}

// CreateStaff adds a staff account to shopID.
func (s *Service) CreateStaff(ctx context.Context, shopID int64, n NewAccount) (Account, error) {
	if err := n.validate(false); err != nil {
		return Account{}, err
	}
	return s.insert(ctx, shopID, n)
}

func (s *Service) insert(ctx context.Context, shopID int64, n NewAccount) (Account, error) {
	hash, err := HashPassword(n.Password)
	if err != nil {
		return Account{}, errs.Wrap("hash password", err)
	}
	now := db.Now()
	var id int64
	err = s.db.QueryRow(ctx, `INSERT INTO accounts (shop_id, username, display_name, password_hash, role, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, nullID(shopID), n.Username, strings.TrimSpace(n.DisplayName),
		hash, n.Role, now, now).Scan(&id)
	if db.IsUniqueViolation(err) {
		return Account{}, errs.Field("username", "username_taken", "this username is taken")
	}
	if err != nil {
		return Account{}, errs.Wrap("create account", err)
	}
	return s.Get(ctx, shopID, id)
}

const accountColumns = `id, COALESCE(shop_id, 0), username, display_name, role, disabled, created_at,
	EXISTS (SELECT 1 FROM account_totp t WHERE t.account_id = accounts.id AND t.enabled_at IS NOT NULL)`

func scanAccount(row db.Scanner) (Account, error) {
	var a Account
	var created int64
	err := row.Scan(&a.ID, &a.ShopID, &a.Username, &a.DisplayName, &a.Role, &a.Disabled, &created, &a.TOTPEnabled)
	a.CreatedAt = time.UnixMilli(created).UTC()
	return a, err
}

// Get returns account id of shopID (0: an operator account).
func (s *Service) Get(ctx context.Context, shopID, id int64) (Account, error) {
	a, err := scanAccount(s.db.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE id = ? AND COALESCE(shop_id, 0) = ?`, id, shopID))
	if db.IsNoRows(err) {
		return Account{}, errs.E(errs.NotFound, "account_not_found", "no such account")
	}
	return a, errs.Wrap("get account", err)
}

// ListStaff returns a page of the staff accounts of shopID, oldest first:
// ids above after (0 = from the first), up to limit+1 rows so the caller
// knows whether there is a next page.
func (s *Service) ListStaff(ctx context.Context, shopID, after int64, limit int) ([]Account, error) {
	out, err := db.All(ctx, s.db, scanAccount, `SELECT `+accountColumns+` FROM accounts WHERE shop_id = ? AND id > ? ORDER BY id LIMIT ?`,
		shopID, after, limit+1)
	return out, errs.Wrap("list staff", err)
}

// StaffUpdate changes a staff account; nil fields stay as they are.
type StaffUpdate struct {
	DisplayName *string    `json:"display_name,omitempty"`
	Role        *auth.Role `json:"role,omitempty" doc:"owner, operations, service (客服, customer service) or finance"`
	Disabled    *bool      `json:"disabled,omitempty"`
	Password    *string    `json:"password,omitempty" doc:"a new password; ends the account's sessions"`
}

// UpdateStaff applies u to staff account id of shopID. Disabling an account
// or resetting its password ends its sessions.
func (s *Service) UpdateStaff(ctx context.Context, shopID, id int64, u StaffUpdate) (Account, error) {
	cur, err := s.Get(ctx, shopID, id)
	if err != nil {
		return Account{}, err
	}
	var v errs.Validator
	if u.Role != nil {
		v.Check(auth.ValidShopRole(*u.Role), "role", "must be owner, operations, service or finance")
		cur.Role = *u.Role
	}
	if u.DisplayName != nil {
		v.Check(len([]rune(*u.DisplayName)) <= 40, "display_name", "must be at most 40 characters")
		cur.DisplayName = strings.TrimSpace(*u.DisplayName)
	}
	if u.Password != nil {
		checkPassword(&v, "password", *u.Password)
	}
	if err := v.Err(); err != nil {
		return Account{}, err
	}
	if u.Disabled != nil {
		cur.Disabled = *u.Disabled
	}
	_, err = s.db.Exec(ctx, `UPDATE accounts SET display_name = ?, role = ?, disabled = ?, updated_at = ?
		WHERE id = ? AND shop_id = ?`, cur.DisplayName, cur.Role, cur.Disabled, db.Now(), id, shopID)
	if err != nil {
		return Account{}, errs.Wrap("update staff", err)
	}
	if u.Password != nil {
		if err := s.setPassword(ctx, id, *u.Password); err != nil {
			return Account{}, err
		}
	}
	if cur.Disabled || u.Password != nil || u.Role != nil {
		if _, err := s.sessions.RevokeSubject(ctx, session.Staff, id); err != nil {
			return Account{}, err
		}
	}
	return cur, nil
}

// UpdateAgency applies u (name, disabled, password; never the role) to
// agency account id. Disabling it or resetting its password ends its
// sessions.
func (s *Service) UpdateAgency(ctx context.Context, id int64, u StaffUpdate) (Account, error) {
	cur, err := s.Get(ctx, 0, id)
	if errs.Is(err, "account_not_found") || err == nil && cur.Role != auth.RoleAgency {
		return Account{}, errs.E(errs.NotFound, "agency_not_found", "no such agency account")
	}
	if err != nil {
		return Account{}, err
	}
	var v errs.Validator
	if u.DisplayName != nil {
		v.Check(len([]rune(*u.DisplayName)) <= 40, "display_name", "must be at most 40 characters")
		cur.DisplayName = strings.TrimSpace(*u.DisplayName)
	}
	if u.Password != nil {
		checkPassword(&v, "password", *u.Password)
	}
	v.Check(u.Role == nil, "role", "an agency account's role cannot change")
	if err := v.Err(); err != nil {
		return Account{}, err
	}
	if u.Disabled != nil {
		cur.Disabled = *u.Disabled
	}
	_, err = s.db.Exec(ctx, `UPDATE accounts SET display_name = ?, disabled = ?, updated_at = ? WHERE id = ? AND role = 'agency'`,
		cur.DisplayName, cur.Disabled, db.Now(), id)
	if err != nil {
		return Account{}, errs.Wrap("update agency", err)
	}
	if u.Password != nil {
		if err := s.setPassword(ctx, id, *u.Password); err != nil {
			return Account{}, err
		}
	}
	if cur.Disabled || u.Password != nil {
		if _, err := s.sessions.RevokeSubject(ctx, session.Staff, id); err != nil {
			return Account{}, err
		}
	}
	return cur, nil
}

func (s *Service) setPassword(ctx context.Context, id int64, password string) error {
	hash, err := HashPassword(password)
	if err != nil {
		return errs.Wrap("hash password", err)
	}
	_, err = s.db.Exec(ctx, `UPDATE accounts SET password_hash = ?, updated_at = ? WHERE id = ?`, hash, db.Now(), id)
	return errs.Wrap("set password", err)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
