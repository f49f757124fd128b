// Package session issues and checks opaque session tokens for buyers and
// staff. Only a token's SHA-256 is stored, in the database, so every server
// process accepts every session and a stolen database leaks no tokens.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"

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
	SubjectID int64 // member id or account id
	ShopID    int64 // 0 for operators
	ExpiresAt time.Time
}

// Store keeps sessions in the database.
type Store struct{ db *db.DB }

// NewStore returns a session store on d.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

// Create starts a session and returns its token (shown once, never stored).
func (s *Store) Create(ctx context.Context, kind Kind, subjectID, shopID int64, ttl time.Duration) (string, time.Time, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", time.Time{}, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := time.Now()
	expires := now.Add(ttl)
	_, err := s.db.Exec(ctx, `INSERT INTO sessions (token_hash, kind, subject_id, shop_id, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`, hash(token), kind, subjectID, nullShop(shopID), now.UnixMilli(), expires.UnixMilli())
	if err != nil {
		return "", time.Time{}, errs.Wrap("create session", err)
	}
	return token, expires, nil
}

// Lookup returns the live session of token, or an Unauthenticated error.
func (s *Store) Lookup(ctx context.Context, kind Kind, token string) (Session, error) {
	if token == "" || len(token) > 128 {
		return Session{}, unauthenticated()
	}
	var out Session
	var shop *int64
	var expires int64
	err := s.db.QueryRow(ctx, `SELECT subject_id, shop_id, expires_at FROM sessions
		WHERE token_hash = ? AND kind = ? AND expires_at > ?`, hash(token), kind, time.Now().UnixMilli()).
		Scan(&out.SubjectID, &shop, &expires)
	if db.IsNoRows(err) {
		return Session{}, unauthenticated()
	}
	if err != nil {
		return Session{}, errs.Wrap("lookup session", err)
	}
	out.Kind, out.ExpiresAt = kind, time.UnixMilli(expires)
	if shop != nil {
		out.ShopID = *shop
	}
	return out, nil
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
	res, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, time.Now().UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
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
