// Package content is paid content (issue 13): courses and columns (专栏)
// with their lessons (articles, audio, video, live sessions), packages
// bundling courses, membership plans, and entitlements — who may see what,
// from when to when, from which source — with the access check every lesson
// request runs (an in-memory index per shop and a small cached set of each
// member's entitlements), short-lived signed media URLs and the daily
// expiry reminders. Selling is internal/contentsale's: it grants through
// GrantTx and revokes through RevokeTx. Imports only platform/* and member.
package content

import (
	"context"
	"time"

	"github.com/kaidian/kaidian/internal/platform/blob"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// china is the business day's zone (Asia/Shanghai has no DST).
var china = time.FixedZone("CST", 8*3600)

// Target kinds of an entitlement.
const (
	KindCourse  = "course"
	KindPackage = "package"
	KindPlan    = "plan"
	KindCamp    = "camp"
)

// Sources of an entitlement.
var sources = map[string]bool{"purchase": true, "membership": true, "gift": true, "grant": true, "trial": true}

// DefaultGraceDays is a shop's grace period before it sets one.
const DefaultGraceDays = 3

// Service keeps the catalogue, the entitlements and the access index.
type Service struct {
	db     *db.DB
	now    func() time.Time
	secret []byte // signs media URLs
	store  blob.Store
	index  *indexes
	cache  *memberCache
	// OnReminder runs in the reminders' transaction, once per
	// (entitlement, offset); an error undoes that batch (it is tried again).
	OnReminder func(ctx context.Context, tx *db.Tx, r Reminder) error
}

// NewService returns the content service; secret signs the media URLs it
// hands out, store holds the uploaded files (nil: no blob-backed lesson is
// served).
func NewService(d *db.DB, secret []byte, store blob.Store) *Service {
	s := &Service{db: d, now: time.Now, secret: secret, store: store}
	s.index = newIndexes(s)
	s.cache = newMemberCache(s)
	return s
}

// SetClock replaces the clock (tests move time with it).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func optMS(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := fromMS(*v)
	return &t
}

// Settings are a shop's content settings.
type Settings struct {
	GraceDays int `json:"grace_days" doc:"days access continues after an entitlement ends (the buyer sees a banner meanwhile)"`
}

// SettingsInput changes them.
type SettingsInput struct {
	GraceDays int `json:"grace_days" doc:"0 to 30"`
}

// Settings returns the shop's settings (the defaults before any save).
func (s *Service) Settings(ctx context.Context, shopID int64) (Settings, error) {
	return readSettings(ctx, s.db, shopID)
}

func readSettings(ctx context.Context, q db.Querier, shopID int64) (Settings, error) {
	st := Settings{GraceDays: DefaultGraceDays}
	err := q.QueryRow(ctx, `SELECT grace_days FROM content_settings WHERE shop_id = ?`, shopID).Scan(&st.GraceDays)
	if db.IsNoRows(err) {
		return st, nil
	}
	return st, errs.Wrap("content settings", err)
}

// SaveSettings writes the shop's settings.
func (s *Service) SaveSettings(ctx context.Context, shopID int64, in SettingsInput) (Settings, error) {
	if in.GraceDays < 0 || in.GraceDays > 30 {
		return Settings{}, errs.Field("grace_days", "invalid_grace_days", "must be 0 to 30")
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO content_settings (shop_id, grace_days, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (shop_id) DO UPDATE SET grace_days = excluded.grace_days, updated_at = excluded.updated_at`,
			shopID, in.GraceDays, ms(s.now())); err != nil {
			return err
		}
		return s.bump(ctx, tx, shopID)
	})
	if err != nil {
		return Settings{}, errs.Wrap("save content settings", err)
	}
	s.index.drop(shopID)
	return Settings{GraceDays: in.GraceDays}, nil
}

// bump raises the shop's catalogue version in tx: other processes see it
// on their next poll and rebuild the shop's index.
func (s *Service) bump(ctx context.Context, tx *db.Tx, shopID int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO content_versions (shop_id, version, updated_at) VALUES (?, 1, ?)
		ON CONFLICT (shop_id) DO UPDATE SET version = content_versions.version + 1, updated_at = excluded.updated_at`,
		shopID, ms(s.now()))
	return err
}
