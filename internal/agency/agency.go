// Package agency gives agencies one login for many shops: an agency
// account (role "agency", no shop of its own) acts on the shops operators
// grant it, each with a shop role (owner, operations, service, finance),
// choosing the shop per request with X-Shop-Id like an operator, and sees
// no other shop. Grants and revocations are kept as events. The server's
// staff guard asks RoleIn on every agency request, so a revocation takes
// effect at once.
package agency

import (
	"context"
	"log/slog"
	"time"

	"github.com/kaidian/kaidian/internal/account"
	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/shop"
)

// Grant is a shop an account may act on, and its role there.
type Grant struct {
	ShopID    int64     `json:"shop_id"`
	ShopName  string    `json:"shop_name"`
	AppID     string    `json:"appid"`
	Role      auth.Role `json:"role" doc:"the role the account has in this shop (operator: an operator, who may act on every shop)"`
	GrantedAt time.Time `json:"granted_at"`
}

// Event is a grant or revocation, with the operator who made it.
type Event struct {
	ID        int64     `json:"id"`
	ShopID    int64     `json:"shop_id"`
	Action    string    `json:"action" enum:"grant,revoke"`
	Role      auth.Role `json:"role" doc:"the role granted (empty for a revocation)"`
	ActorID   int64     `json:"actor_id" doc:"the operator's account id"`
	CreatedAt time.Time `json:"created_at"`
}

// Shops gives the agency service the shops it grants.
type Shops interface {
	Get(ctx context.Context, id int64) (shop.Shop, error)
}

// Service stores agency accounts' grants.
type Service struct {
	db       *db.DB
	accounts *account.Service
	shops    Shops
	log      *slog.Logger
}

// NewService returns the agency service.
func NewService(d *db.DB, accounts *account.Service, shops Shops, log *slog.Logger) *Service {
	return &Service{db: d, accounts: accounts, shops: shops, log: log}
}

var errGrantNotFound = errs.E(errs.NotFound, "grant_not_found", "this account has no grant for that shop")

var errNotAgency = errs.E(errs.NotFound, "agency_not_found", "no such agency account")

// CreateAccount adds an agency account (operators).
func (s *Service) CreateAccount(ctx context.Context, n account.NewAccount) (account.Account, error) {
	a, err := s.accounts.CreateAgency(ctx, n)
	if err == nil {
		s.log.Info("agency account created", "account", a.ID, "username", a.Username)
	}
	return a, err
}

// UpdateAccount renames, disables or enables agency account id, or resets
// its password, as operator actorID.
func (s *Service) UpdateAccount(ctx context.Context, actorID, id int64, u account.StaffUpdate) (account.Account, error) {
	a, err := s.accounts.UpdateAgency(ctx, id, u)
	if err == nil {
		s.log.Info("agency account changed", "account", id, "disabled", a.Disabled, "password_reset", u.Password != nil, "by", actorID)
	}
	return a, err
}

// List returns a page of agency accounts, oldest first.
func (s *Service) List(ctx context.Context, after int64, limit int) ([]account.Account, error) {
	return s.accounts.ListRole(ctx, auth.RoleAgency, after, limit)
}

// agencyAccount returns account id if it is an agency account.
func (s *Service) agencyAccount(ctx context.Context, id int64) (account.Account, error) {
	a, err := s.accounts.Get(ctx, 0, id)
	if errs.Is(err, "account_not_found") || err == nil && a.Role != auth.RoleAgency {
		return account.Account{}, errNotAgency
	}
	return a, err
}

// GrantInput grants a shop to an agency account.
type GrantInput struct {
	ShopID int64     `json:"shop_id"`
	Role   auth.Role `json:"role" doc:"owner, operations, service (客服, customer service) or finance: what the agency may do in this shop"`
}

// Grant lets agency account accountID act on in.ShopID with in.Role (a
// new role replaces the old one), logged as actorID's.
func (s *Service) Grant(ctx context.Context, actorID, accountID int64, in GrantInput) (Grant, error) {
	var v errs.Validator
	v.Check(in.ShopID > 0, "shop_id", "must be a shop id")
	v.Check(auth.ValidShopRole(in.Role), "role", "must be owner, operations, service or finance")
	if err := v.Err(); err != nil {
		return Grant{}, err
	}
	if _, err := s.agencyAccount(ctx, accountID); err != nil {
		return Grant{}, err
	}
	if _, err := s.shops.Get(ctx, in.ShopID); err != nil {
		if errs.Is(err, "shop_not_found") {
			v.Check(false, "shop_id", "no such shop")
			return Grant{}, v.Err()
		}
		return Grant{}, err
	}
	now := db.Now()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO account_shops (account_id, shop_id, role, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id, shop_id) DO UPDATE SET role = excluded.role`, accountID, in.ShopID, in.Role, now); err != nil {
			return err
		}
		return logEvent(ctx, tx, accountID, in.ShopID, "grant", in.Role, actorID, now)
	})
	if err != nil {
		return Grant{}, errs.Wrap("grant shop", err)
	}
	s.log.Info("shop granted to agency account", "account", accountID, "shop", in.ShopID, "role", in.Role, "by", actorID)
	return s.grant(ctx, accountID, in.ShopID)
}

// RevokeInput takes a shop away from an agency account.
type RevokeInput struct {
	ShopID int64 `json:"shop_id"`
}

// Revoke ends account accountID's access to shopID at once.
func (s *Service) Revoke(ctx context.Context, actorID, accountID, shopID int64) error {
	if _, err := s.agencyAccount(ctx, accountID); err != nil {
		return err
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM account_shops WHERE account_id = ? AND shop_id = ?`, accountID, shopID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return errGrantNotFound
		}
		return logEvent(ctx, tx, accountID, shopID, "revoke", "", actorID, db.Now())
	})
	if errs.Is(err, "grant_not_found") {
		return err
	}
	if err != nil {
		return errs.Wrap("revoke shop", err)
	}
	if err == nil {
		s.log.Info("shop revoked from agency account", "account", accountID, "shop", shopID, "by", actorID)
	}
	return err
}

func logEvent(ctx context.Context, tx *db.Tx, accountID, shopID int64, action string, role auth.Role, actorID, at int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO account_shop_events (account_id, shop_id, action, role, actor_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, accountID, shopID, action, role, actorID, at)
	return err
}

// RoleIn is the role agency account accountID has in shopID; ok is false
// when the shop is not granted to it, or is disabled.
func (s *Service) RoleIn(ctx context.Context, accountID, shopID int64) (role auth.Role, ok bool, err error) {
	err = s.db.QueryRow(ctx, `SELECT g.role FROM account_shops g JOIN shops s ON s.id = g.shop_id
		WHERE g.account_id = ? AND g.shop_id = ? AND s.disabled = FALSE`, accountID, shopID).Scan(&role)
	if db.IsNoRows(err) {
		return "", false, nil
	}
	return role, err == nil, errs.Wrap("agency role", err)
}

const grantColumns = `g.shop_id, s.name, s.appid, g.role, g.created_at`

func scanGrant(row db.Scanner) (Grant, error) {
	var g Grant
	var at int64
	err := row.Scan(&g.ShopID, &g.ShopName, &g.AppID, &g.Role, &at)
	g.GrantedAt = time.UnixMilli(at).UTC()
	return g, err
}

func (s *Service) grant(ctx context.Context, accountID, shopID int64) (Grant, error) {
	g, err := scanGrant(s.db.QueryRow(ctx, `SELECT `+grantColumns+` FROM account_shops g JOIN shops s ON s.id = g.shop_id
		WHERE g.account_id = ? AND g.shop_id = ?`, accountID, shopID))
	return g, errs.Wrap("get grant", err)
}

// Grants returns a page of the shops granted to agency account accountID,
// by shop id: ids above after, up to limit+1 rows.
func (s *Service) Grants(ctx context.Context, accountID, after int64, limit int) ([]Grant, error) {
	if _, err := s.agencyAccount(ctx, accountID); err != nil {
		return nil, err
	}
	return s.grants(ctx, accountID, after, limit)
}

func (s *Service) grants(ctx context.Context, accountID, after int64, limit int) ([]Grant, error) {
	out, err := db.All(ctx, s.db, scanGrant, `SELECT `+grantColumns+` FROM account_shops g JOIN shops s ON s.id = g.shop_id
		WHERE g.account_id = ? AND g.shop_id > ? ORDER BY g.shop_id LIMIT ?`, accountID, after, limit+1)
	return out, errs.Wrap("list grants", err)
}

// Events returns a page of agency account accountID's grants and
// revocations, newest first: ids below before (0 = from the newest).
func (s *Service) Events(ctx context.Context, accountID, before int64, limit int) ([]Event, error) {
	if _, err := s.agencyAccount(ctx, accountID); err != nil {
		return nil, err
	}
	if before <= 0 {
		before = 1 << 62
	}
	out, err := db.All(ctx, s.db, func(row db.Scanner) (Event, error) {
		var e Event
		var at int64
		err := row.Scan(&e.ID, &e.ShopID, &e.Action, &e.Role, &e.ActorID, &at)
		e.CreatedAt = time.UnixMilli(at).UTC()
		return e, err
	}, `SELECT id, shop_id, action, role, actor_id, created_at FROM account_shop_events WHERE account_id = ? AND id < ?
		ORDER BY id DESC LIMIT ?`, accountID, before, limit+1)
	return out, errs.Wrap("list grant events", err)
}

// MyShops is the shops the caller may act on: an agency's grants, an
// operator's every shop, a staff member's own shop.
func (s *Service) MyShops(ctx context.Context, st auth.Staff, after int64, limit int) ([]Grant, error) {
	switch {
	case st.Agency || st.Role == auth.RoleAgency:
		return s.grants(ctx, st.AccountID, after, limit)
	case st.Role == auth.RoleOperator:
		out, err := db.All(ctx, s.db, func(row db.Scanner) (Grant, error) {
			g := Grant{Role: auth.RoleOperator}
			var at int64
			err := row.Scan(&g.ShopID, &g.ShopName, &g.AppID, &at)
			g.GrantedAt = time.UnixMilli(at).UTC()
			return g, err
		}, `SELECT id, name, appid, created_at FROM shops WHERE id > ? ORDER BY id LIMIT ?`, after, limit+1)
		return out, errs.Wrap("list shops", err)
	}
	if st.ShopID <= after {
		return nil, nil
	}
	sh, err := s.shops.Get(ctx, st.ShopID)
	if err != nil {
		return nil, err
	}
	return []Grant{{ShopID: sh.ID, ShopName: sh.Name, AppID: sh.AppID, Role: st.Role, GrantedAt: sh.CreatedAt}}, nil
}
