// Package session issues and checks opaque session tokens for buyers and
// staff. Only a token's SHA-256 is stored, in the database, so every server
// process accepts every session and a stolen database leaks no tokens.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Kind separates buyer sessions from staff sessions: a token of one kind is
// never accepted as the other.
type Kind string

const (
	Member Kind = "member"
	Staff  Kind = "staff"
)

// Session is a live session.
type Session struct {
	Kind      Kind
	PublicID  int64 // what its owner sees and revokes it by (never the token's hash)
	SubjectID int64 // member id or account id
	ShopID    int64 // 0 for operators
	ExpiresAt time.Time
	// SteppedUpAt is the last second verification on this session (zero:
	// none).
	SteppedUpAt time.Time
}

// Meta is where a session was opened from, shown in its owner's list.
type Meta struct {
	Addr      string
	UserAgent string
}

// TouchEvery is how often a session's last request is written at most:
// idle expiry needs no more precision, and reads stay reads.
const TouchEvery = time.Minute

// Store keeps sessions in the database.
type Store struct {
	db *db.DB

	mu   sync.RWMutex
	now  func() time.Time
	idle map[Kind]time.Duration
}

// NewStore returns a session store on d.
func NewStore(d *db.DB) *Store {
	return &Store{db: d, now: time.Now, idle: map[Kind]time.Duration{}}
}

// SetClock replaces the clock (tests).
func (s *Store) SetClock(now func() time.Time) {
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
}

// SetIdle ends sessions of kind after d without a request (0: never).
func (s *Store) SetIdle(kind Kind, d time.Duration) {
	s.mu.Lock()
	s.idle[kind] = d
	s.mu.Unlock()
}

// clock is the time now and kind's idle limit (no allocation: Lookup is
// on every request).
func (s *Store) clock(kind Kind) (time.Time, time.Duration) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.now(), s.idle[kind]
}

// Create starts a session and returns its token (shown once, never stored).
func (s *Store) Create(ctx context.Context, kind Kind, subjectID, shopID int64, ttl time.Duration) (string, time.Time, error) {
	return s.CreateWith(ctx, kind, subjectID, shopID, ttl, Meta{})
}

// CreateWith is Create with where the session comes from.
func (s *Store) CreateWith(ctx context.Context, kind Kind, subjectID, shopID int64, ttl time.Duration, m Meta) (string, time.Time, error) {
	raw := make([]byte, 40)
	if _, err := rand.Read(raw); err != nil {
		return "", time.Time{}, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:32])
	// 53 bits: exact in a JavaScript number.
	publicID := int64(binary.BigEndian.Uint64(raw[32:])>>11) + 1
	now, _ := s.clock(kind)
	expires := now.Add(ttl)
	_, err := s.db.Exec(ctx, `INSERT INTO sessions (token_hash, kind, subject_id, shop_id, created_at, expires_at, public_id, last_seen_at, addr, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, hash(token), kind, subjectID, nullShop(shopID), now.UnixMilli(), expires.UnixMilli(),
		publicID, now.UnixMilli(), clip(m.Addr, 64), clip(m.UserAgent, 256))
	if err != nil {
		return "", time.Time{}, errs.Wrap("create session", err)
	}
	return token, expires, nil
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	for len(s) > n {
		s = s[:n]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}

// Lookup returns the live session of token, or an Unauthenticated error.
// A session of a kind with an idle limit ends when its last request is
// older than that; a request records itself at most once per TouchEvery.
func (s *Store) Lookup(ctx context.Context, kind Kind, token string) (Session, error) {
	if token == "" || len(token) > 128 {
		return Session{}, unauthenticated()
	}
	now, idle := s.clock(kind)
	var out Session
	var shop, publicID, lastSeen, steppedUp *int64
	var expires int64
	err := s.db.QueryRow(ctx, `SELECT subject_id, shop_id, expires_at, public_id, last_seen_at, stepped_up_at FROM sessions
		WHERE token_hash = ? AND kind = ? AND expires_at > ?`, hash(token), kind, now.UnixMilli()).
		Scan(&out.SubjectID, &shop, &expires, &publicID, &lastSeen, &steppedUp)
	if db.IsNoRows(err) {
		return Session{}, unauthenticated()
	}
	if err != nil {
		return Session{}, errs.Wrap("lookup session", err)
	}
	if idle > 0 {
		if err := s.touch(ctx, token, lastSeen, idle, now); err != nil {
			return Session{}, err
		}
	}
	out.Kind, out.ExpiresAt = kind, time.UnixMilli(expires)
	out.ShopID, out.PublicID = deref(shop), deref(publicID)
	if steppedUp != nil {
		out.SteppedUpAt = time.UnixMilli(*steppedUp)
	}
	return out, nil
}

// touch refuses a session idle longer than idle (and deletes it), or
// records this request when the last one recorded is over TouchEvery old.
func (s *Store) touch(ctx context.Context, token string, lastSeen *int64, idle time.Duration, now time.Time) error {
	seen := deref(lastSeen)
	if seen > 0 && now.Sub(time.UnixMilli(seen)) > idle {
		_ = s.Revoke(ctx, token)
		return errs.E(errs.Unauthenticated, "unauthenticated", "log in again: the session was idle too long")
	}
	if now.Sub(time.UnixMilli(seen)) < TouchEvery {
		return nil
	}
	_, err := s.db.Exec(ctx, `UPDATE sessions SET last_seen_at = ? WHERE token_hash = ? AND COALESCE(last_seen_at, 0) < ?`,
		now.UnixMilli(), hash(token), now.Add(-TouchEvery).UnixMilli())
	return errs.Wrap("touch session", err)
}

// StepUp records a second verification on the session of token now.
func (s *Store) StepUp(ctx context.Context, token string) error {
	now, _ := s.clock(Staff)
	_, err := s.db.Exec(ctx, `UPDATE sessions SET stepped_up_at = ? WHERE token_hash = ?`, now.UnixMilli(), hash(token))
	return errs.Wrap("step up session", err)
}

// Listed is a session in its owner's list: never its token or its hash.
type Listed struct {
	ID         int64     `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at" doc:"the last request, to the minute"`
	ExpiresAt  time.Time `json:"expires_at"`
	Addr       string    `json:"addr" doc:"the client address it was opened from"`
	UserAgent  string    `json:"user_agent"`
	Current    bool      `json:"current" doc:"the session of this request"`
}

// MaxListed bounds one subject's session list.
const MaxListed = 200

// List returns the live sessions of a subject, newest first (at most
// MaxListed); current is the token of the asking request.
func (s *Store) List(ctx context.Context, kind Kind, subjectID int64, current string) ([]Listed, error) {
	now, idle := s.clock(kind)
	minSeen := int64(0)
	if idle > 0 {
		minSeen = now.Add(-idle).UnixMilli()
	}
	cur := hash(current)
	return db.All(ctx, s.db, func(row db.Scanner) (Listed, error) {
		var l Listed
		var created, seen, expires int64
		var h string
		err := row.Scan(&l.ID, &created, &seen, &expires, &l.Addr, &l.UserAgent, &h)
		l.CreatedAt, l.LastSeenAt, l.ExpiresAt = ms(created), ms(seen), ms(expires)
		l.Current = h == cur
		return l, err
	}, `SELECT COALESCE(public_id, 0), created_at, COALESCE(last_seen_at, created_at), expires_at, addr, user_agent, token_hash
		FROM sessions WHERE kind = ? AND subject_id = ? AND expires_at > ? AND COALESCE(last_seen_at, created_at) >= ?
		ORDER BY created_at DESC, public_id DESC LIMIT ?`, kind, subjectID, now.UnixMilli(), minSeen, MaxListed)
}

// RevokeID ends the session publicID of a subject; false when it has none
// such (another's sessions are not found).
func (s *Store) RevokeID(ctx context.Context, kind Kind, subjectID, publicID int64) (bool, error) {
	res, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE kind = ? AND subject_id = ? AND public_id = ?`, kind, subjectID, publicID)
	if err != nil {
		return false, errs.Wrap("revoke session", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func ms(v int64) time.Time { return time.UnixMilli(v).UTC() }

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// Revoke ends the session of token.
func (s *Store) Revoke(ctx context.Context, token string) error {
	_, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hash(token))
	return errs.Wrap("revoke session", err)
}

// RevokeSubject ends every session of a member or account and returns how
// many there were.
func (s *Store) RevokeSubject(ctx context.Context, kind Kind, subjectID int64) (int64, error) {
	res, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE kind = ? AND subject_id = ?`, kind, subjectID)
	if err != nil {
		return 0, errs.Wrap("revoke sessions", err)
	}
	return res.RowsAffected()
}

// Sweep deletes expired sessions.
func (s *Store) Sweep(ctx context.Context) (int64, error) {
	now, idle := s.clock(Staff)
	res, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, now.UnixMilli())
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	if idle > 0 {
		res, err = s.db.Exec(ctx, `DELETE FROM sessions WHERE kind = 'staff' AND last_seen_at < ?`, now.Add(-idle).UnixMilli())
		if err != nil {
			return n, err
		}
		m, _ := res.RowsAffected()
		n += m
	}
	return n, nil
}

func hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func nullShop(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func unauthenticated() error {
	return errs.E(errs.Unauthenticated, "unauthenticated", "log in first: the session is missing, expired or revoked")
}
