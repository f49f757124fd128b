// Package member manages a shop's mini-program users: login with the
// wx.login code, sessions, and phone-number binding.
package member

import (
	"context"
	"errors"
	"time"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/session"
	"github.com/kaidian/kaidian/internal/platform/wechat"
)

// SessionTTL is how long a buyer stays logged in.
const SessionTTL = 30 * 24 * time.Hour

// Member is a buyer as the API shows it.
type Member struct {
	ID         int64     `json:"id"`
	ShopID     int64     `json:"shop_id"`
	HasUnionID bool      `json:"has_unionid"`
	Phone      string    `json:"phone" doc:"full to the member, masked (138****8000) to staff"`
	Nickname   string    `json:"nickname"`
	Birthday   string    `json:"birthday" doc:"MM-DD, or empty"`
	CreatedAt  time.Time `json:"created_at"`
}

// Apps finds a shop's mini-program credentials (appid and secret).
type Apps interface {
	App(ctx context.Context, shopID int64) (wechat.App, error)
}

// WeChat is the part of the WeChat client members need.
type WeChat interface {
	Code2Session(ctx context.Context, app wechat.App, code string) (wechat.Session, error)
	PhoneNumber(ctx context.Context, app wechat.App, code string) (wechat.Phone, error)
}

// Service logs buyers in and keeps their profiles.
type Service struct {
	db       *db.DB
	sessions *session.Store
	apps     Apps
	wx       WeChat
	// onNew runs after a buyer's first login (new-member coupons); its
	// failure is logged by the caller's hook, not the login's.
	onNew     func(ctx context.Context, shopID, memberID int64)
	onEnded   func(token string, memberID int64)
	promoters Promoters
	// onProfile runs after a profile change commits (nickname, birthday,
	// phone): new-member tasks look at the profile again.
	onProfile func(ctx context.Context, shopID, memberID int64)
	// onSignup run in the transaction that creates a member (analytics'
	// signup event).
	onSignup []func(ctx context.Context, tx *db.Tx, shopID, memberID int64, at time.Time) error
	// onSession receives WeChat's session_key of each login (virtual
	// payment signs with it); the member room never stores it.
	onSession func(ctx context.Context, shopID, memberID int64, sessionKey string)
}

// OnSignup adds what runs in the transaction that creates a member on
// their first login; an error undoes the creation (the login fails).
func (s *Service) OnSignup(fn func(ctx context.Context, tx *db.Tx, shopID, memberID int64, at time.Time) error) {
	s.onSignup = append(s.onSignup, fn)
}

// OnSessionKey sets what receives the session_key WeChat gives each login.
func (s *Service) OnSessionKey(fn func(ctx context.Context, shopID, memberID int64, sessionKey string)) {
	s.onSession = fn
}

// OnProfileChanged sets what runs after a member's nickname, birthday or
// phone changed (after the change committed).
func (s *Service) OnProfileChanged(fn func(ctx context.Context, shopID, memberID int64)) {
	s.onProfile = fn
}

func (s *Service) profileChanged(ctx context.Context, shopID, memberID int64) {
	if s.onProfile != nil {
		s.onProfile(ctx, shopID, memberID)
	}
}

// OnSessionsEnded sets what runs after sessions end here: one token
// (logout) or every session of a member (token ""), so caches can forget them.
func (s *Service) OnSessionsEnded(fn func(token string, memberID int64)) { s.onEnded = fn }

// OnNewMember sets what runs after a buyer's first login.
func (s *Service) OnNewMember(fn func(ctx context.Context, shopID, memberID int64)) { s.onNew = fn }

// NewService returns the member service.
func NewService(d *db.DB, sessions *session.Store, apps Apps, wx WeChat) *Service {
	return &Service{db: d, sessions: sessions, apps: apps, wx: wx}
}

// LoginResult is a new buyer session.
type LoginResult struct {
	Token     string    `json:"token" doc:"send as Authorization: Bearer <token>"`
	ExpiresAt time.Time `json:"expires_at"`
	Member    Member    `json:"member"`
	Created   bool      `json:"created" doc:"true on the first login of this user"`
}

// Login exchanges a wx.login code for a session of shopID's member,
// creating the member on first login.
func (s *Service) Login(ctx context.Context, shopID int64, code string) (LoginResult, error) {
	return s.LoginFrom(ctx, shopID, code, Source{})
}

// LoginFrom is Login recording src as what brought the member when this
// login creates them (a known member's source is never changed).
func (s *Service) LoginFrom(ctx context.Context, shopID int64, code string, src Source) (LoginResult, error) {
	if code == "" || len(code) > 128 {
		return LoginResult{}, errs.Field("code", "invalid_login_code", "code must be the code from wx.login")
	}
	if err := src.Validate(); err != nil {
		return LoginResult{}, err
	}
	src = s.checkPromoter(ctx, shopID, src)
	app, err := s.apps.App(ctx, shopID)
	if err != nil {
		return LoginResult{}, err
	}
	ws, err := s.wx.Code2Session(ctx, app, code)
	if err != nil {
		return LoginResult{}, wechatError(err)
	}
	m, created, err := s.upsert(ctx, shopID, ws, src)
	if err != nil {
		return LoginResult{}, err
	}
	token, expires, err := s.sessions.Create(ctx, session.Member, m.ID, shopID, SessionTTL)
	if err != nil {
		return LoginResult{}, err
	}
	if s.onSession != nil {
		s.onSession(ctx, shopID, m.ID, ws.SessionKey)
	}
	if created && s.onNew != nil {
		s.onNew(ctx, shopID, m.ID)
	}
	return LoginResult{Token: token, ExpiresAt: expires.UTC(), Member: m, Created: created}, nil
}

func (s *Service) upsert(ctx context.Context, shopID int64, ws wechat.Session, src Source) (Member, bool, error) {
	now := db.Now()
	id, err := s.insert(ctx, shopID, ws, src, now)
	created := err == nil
	if db.IsNoRows(err) { // known user: keep a unionid WeChat now reveals; the source stays
		err = s.db.QueryRow(ctx, `UPDATE members SET updated_at = ?, last_login_at = ?,
			unionid = CASE WHEN ? <> '' THEN ? ELSE unionid END
			WHERE shop_id = ? AND openid = ? RETURNING id`, now, now, ws.UnionID, ws.UnionID, shopID, ws.OpenID).Scan(&id)
	}
	if err != nil {
		return Member{}, false, errs.Wrap("upsert member", err)
	}
	m, err := s.Get(ctx, shopID, id)
	return m, created, err
}

// insert creates the member, with the OnSignup hooks in its transaction
// (sql.ErrNoRows: the member exists).
func (s *Service) insert(ctx context.Context, shopID int64, ws wechat.Session, src Source, now int64) (int64, error) {
	const insert = `INSERT INTO members (shop_id, openid, unionid, source_kind, source_ref, last_login_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (shop_id, openid) DO NOTHING RETURNING id`
	var id int64
	if len(s.onSignup) == 0 { // one statement, no transaction around it
		err := s.db.QueryRow(ctx, insert, shopID, ws.OpenID, ws.UnionID, src.Kind, src.Ref, now, now, now).Scan(&id)
		return id, err
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		err := tx.QueryRow(ctx, insert, shopID, ws.OpenID, ws.UnionID, src.Kind, src.Ref, now, now, now).Scan(&id)
		if err != nil {
			return err
		}
		for _, fn := range s.onSignup {
			if err := fn(ctx, tx, shopID, id, time.UnixMilli(now)); err != nil {
				return err
			}
		}
		return nil
	})
	return id, err
}

// wechatError turns a WeChat failure into an error the mini program can act on.
func wechatError(err error) error {
	var api *wechat.APIError
	switch {
	case wechat.IsInvalidCode(err):
		return errs.Field("code", "invalid_login_code", "the code is unknown, used or expired; call wx.login again")
	case wechat.IsRateLimited(err):
		return errs.E(errs.RateLimited, "wechat_rate_limited", "WeChat is rate-limiting this mini program; try again shortly")
	case wechat.IsRisky(err):
		return errs.E(errs.Forbidden, "wechat_risky_user", "WeChat flagged this user as risky")
	case wechat.IsBusy(err):
		return errs.E(errs.Unavailable, "wechat_busy", "WeChat is busy; try again")
	case errors.As(err, &api):
		return &errs.Error{Kind: errs.Unavailable, Code: "wechat_error", Message: "WeChat refused the call", Err: err}
	}
	return &errs.Error{Kind: errs.Unavailable, Code: "wechat_unreachable", Message: "WeChat could not be reached; try again", Err: err}
}

const memberColumns = `id, shop_id, unionid <> '', phone, nickname, birthday, created_at`

func scanMember(row interface{ Scan(...any) error }) (Member, error) {
	var m Member
	var created int64
	err := row.Scan(&m.ID, &m.ShopID, &m.HasUnionID, &m.Phone, &m.Nickname, &m.Birthday, &created)
	m.CreatedAt = time.UnixMilli(created).UTC()
	return m, err
}

// SetBirthday records a buyer's birthday, "MM-DD" (birthday coupons are
// given on it, once a year); "" clears it.
func (s *Service) SetBirthday(ctx context.Context, shopID, id int64, birthday string) (Member, error) {
	if birthday != "" {
		if _, err := time.Parse("2006-01-02", "2000-"+birthday); err != nil || len(birthday) != 5 {
			return Member{}, errs.Field("birthday", "invalid_birthday", "must be MM-DD, e.g. 07-21")
		}
	}
	err := db.ExpectOne(s.db.Exec(ctx, `UPDATE members SET birthday = ?, updated_at = ? WHERE id = ? AND shop_id = ?`,
		birthday, db.Now(), id, shopID))
	if db.IsNoRows(err) {
		return Member{}, errs.E(errs.NotFound, "member_not_found", "no such member")
	}
	if err != nil {
		return Member{}, errs.Wrap("set birthday", err)
	}
	s.profileChanged(ctx, shopID, id)
	return s.Get(ctx, shopID, id)
}

// SetNickname sets a buyer's nickname (moderation publishes it).
func (s *Service) SetNickname(ctx context.Context, shopID, id int64, nickname string) error {
	err := db.ExpectOne(s.db.Exec(ctx, `UPDATE members SET nickname = ?, updated_at = ? WHERE id = ? AND shop_id = ?`,
		nickname, db.Now(), id, shopID))
	if db.IsNoRows(err) {
		return errs.E(errs.NotFound, "member_not_found", "no such member")
	}
	if err == nil {
		s.profileChanged(ctx, shopID, id)
	}
	return errs.Wrap("set nickname", err)
}

// Get returns member id of shopID.
func (s *Service) Get(ctx context.Context, shopID, id int64) (Member, error) {
	m, err := scanMember(s.db.QueryRow(ctx, `SELECT `+memberColumns+` FROM members WHERE id = ? AND shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return Member{}, errs.E(errs.NotFound, "member_not_found", "no such member")
	}
	return m, errs.Wrap("get member", err)
}

// Authenticate turns a buyer session token into the caller.
func (s *Service) Authenticate(ctx context.Context, token string) (auth.Member, error) {
	sess, err := s.sessions.Lookup(ctx, session.Member, token)
	if err != nil {
		return auth.Member{}, err
	}
	return auth.Member{ID: sess.SubjectID, ShopID: sess.ShopID}, nil
}

// Logout ends the session of token.
func (s *Service) Logout(ctx context.Context, token string) error {
	err := s.sessions.Revoke(ctx, token)
	if err == nil && s.onEnded != nil {
		s.onEnded(token, 0)
	}
	return err
}

// RevokeSessions ends every session of member id of shopID.
func (s *Service) RevokeSessions(ctx context.Context, shopID, id int64) (int64, error) {
	if _, err := s.Get(ctx, shopID, id); err != nil {
		return 0, err
	}
	n, err := s.sessions.RevokeSubject(ctx, session.Member, id)
	if err == nil && s.onEnded != nil {
		s.onEnded("", id)
	}
	return n, err
}

// BindPhone asks WeChat for the phone number behind a getPhoneNumber code
// and stores it on the member.
func (s *Service) BindPhone(ctx context.Context, m auth.Member, code string) (Member, error) {
	if code == "" || len(code) > 128 {
		return Member{}, errs.Field("code", "invalid_phone_code", "code must be the code from the getPhoneNumber button")
	}
	app, err := s.apps.App(ctx, m.ShopID)
	if err != nil {
		return Member{}, err
	}
	ph, err := s.wx.PhoneNumber(ctx, app, code)
	if err != nil {
		if wechat.IsInvalidCode(err) {
			return Member{}, errs.Field("code", "invalid_phone_code", "the phone code is unknown, used or expired")
		}
		return Member{}, wechatError(err)
	}
	_, err = s.db.Exec(ctx, `UPDATE members SET phone = ?, updated_at = ? WHERE id = ? AND shop_id = ?`,
		ph.PhoneNumber, db.Now(), m.ID, m.ShopID)
	if err != nil {
		return Member{}, errs.Wrap("bind phone", err)
	}
	s.profileChanged(ctx, m.ShopID, m.ID)
	return s.Get(ctx, m.ShopID, m.ID)
}

// SetPhoneTx stores a phone the member proved some other way (an SMS code,
// smsgate) in tx: the same column as BindPhone.
func (s *Service) SetPhoneTx(ctx context.Context, tx *db.Tx, shopID, id int64, phone string) error {
	return db.ExpectOne(tx.Exec(ctx, `UPDATE members SET phone = ?, updated_at = ? WHERE id = ? AND shop_id = ?`,
		phone, db.Now(), id, shopID))
}

// Page is a page of members; the API answers it as httpx.Page.
type Page struct {
	Items []StaffMember
	Next  int64 // the after of the next page; 0 when there is none
}

// List returns shopID's members as staff see them, newest first, after
// cursor (a member id).
func (s *Service) List(ctx context.Context, shopID, after int64, limit int) (Page, error) {
	if after <= 0 {
		after = 1 << 62
	}
	rows, err := s.db.Query(ctx, `SELECT `+StaffColumns+` FROM members m WHERE m.shop_id = ? AND m.id < ?
		ORDER BY m.id DESC LIMIT ?`, shopID, after, limit+1)
	if err != nil {
		return Page{}, errs.Wrap("list members", err)
	}
	defer rows.Close()
	page := Page{Items: []StaffMember{}}
	for rows.Next() {
		m, err := ScanStaff(rows)
		if err != nil {
			return Page{}, errs.Wrap("list members", err)
		}
		page.Items = append(page.Items, m)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.Next = page.Items[limit-1].ID
	}
	return page, errs.Wrap("list members", rows.Err())
}

// IDByOpenID returns the member of a shop with this openid (for WeChat's
// pushes, which name users by openid).
func (s *Service) IDByOpenID(ctx context.Context, shopID int64, openid string) (int64, error) {
	var id int64
	err := s.db.QueryRow(ctx, `SELECT id FROM members WHERE shop_id = ? AND openid = ?`, shopID, openid).Scan(&id)
	if db.IsNoRows(err) {
		return 0, errs.E(errs.NotFound, "member_not_found", "no such member")
	}
	return id, errs.Wrap("member by openid", err)
}

// OpenID returns a member's openid in its shop's mini program (for payments).
func (s *Service) OpenID(ctx context.Context, shopID, id int64) (string, error) {
	var openid string
	err := s.db.QueryRow(ctx, `SELECT openid FROM members WHERE id = ? AND shop_id = ?`, id, shopID).Scan(&openid)
	if db.IsNoRows(err) {
		return "", errs.E(errs.NotFound, "member_not_found", "no such member")
	}
	return openid, errs.Wrap("openid", err)
}

// InShop answers member_not_found unless id is a member of shopID (the
// check of every staff route that names a member), inside q.
func InShop(ctx context.Context, q db.Querier, shopID, id int64) error {
	var one int
	err := q.QueryRow(ctx, `SELECT 1 FROM members WHERE id = ? AND shop_id = ?`, id, shopID).Scan(&one)
	if db.IsNoRows(err) {
		return errs.E(errs.NotFound, "member_not_found", "no such member")
	}
	return errs.Wrap("member", err)
}
