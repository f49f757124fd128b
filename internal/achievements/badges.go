package achievements

import (
	"context"
	"fmt"
	"github.com/kaidian/kaidian/internal/member"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// The badge rule kinds: a badge is awarded when the member's value of its
// kind reaches the threshold.
const (
	KindStreak = "checkin_streak"  // longest check-in streak, in days
	KindOrders = "orders_received" // orders received
	KindSpent  = "spent"           // fen paid for received orders
)

// Limits of badges.
const (
	MaxBadges    = 100
	MaxThreshold = 1_000_000_000_000 // fen: ten billion yuan
	MaxPoints    = 1_000_000
)

var (
	errBadgeNotFound = errs.E(errs.NotFound, "badge_not_found", "no such badge")
	errBadgeAwarded  = errs.E(errs.Conflict, "badge_awarded", "members hold this badge: disable it instead")
	errTooMany       = errs.E(errs.Conflict, "too_many_badges", fmt.Sprintf("a shop has at most %d badges", MaxBadges))
)

// Badge is a badge as staff see it.
type Badge struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Kind        string    `json:"kind" enum:"checkin_streak,orders_received,spent"`
	Threshold   int64     `json:"threshold" doc:"days for checkin_streak, orders for orders_received, fen for spent"`
	Points      int64     `json:"points" doc:"points given with it (0: none)"`
	Enabled     bool      `json:"enabled" doc:"a disabled badge is awarded no more; holders keep it"`
	Holders     int64     `json:"holders"`
	CreatedAt   time.Time `json:"created_at"`
}

// BadgeInput defines a badge.
type BadgeInput struct {
	Name        string `json:"name" doc:"1 to 40 characters"`
	Description string `json:"description" doc:"at most 200 characters"`
	Kind        string `json:"kind" enum:"checkin_streak,orders_received,spent"`
	Threshold   int64  `json:"threshold" doc:"1 to 1000000000000"`
	Points      int64  `json:"points" doc:"0 to 1000000"`
	Enabled     *bool  `json:"enabled" doc:"default true"`
}

func knownKind(k string) bool { return k == KindStreak || k == KindOrders || k == KindSpent }

func (in *BadgeInput) validate() error {
	in.Name, in.Description = strings.TrimSpace(in.Name), strings.TrimSpace(in.Description)
	var v errs.Validator
	n := utf8.RuneCountInString(in.Name)
	v.Check(n >= 1 && n <= 40, "name", "must be 1 to 40 characters")
	v.Check(utf8.RuneCountInString(in.Description) <= 200, "description", "must be at most 200 characters")
	v.Check(knownKind(in.Kind), "kind", "must be checkin_streak, orders_received or spent")
	v.Check(in.Threshold >= 1 && in.Threshold <= MaxThreshold, "threshold", "must be 1 to 1000000000000")
	v.Check(in.Points >= 0 && in.Points <= MaxPoints, "points", "must be 0 to 1000000")
	return v.Err()
}

func (in BadgeInput) enabled() bool { return in.Enabled == nil || *in.Enabled }

const badgeColumns = `b.id, b.name, b.description, b.kind, b.threshold, b.points, b.enabled, b.created_at,
	(SELECT COUNT(*) FROM member_badges mb WHERE mb.badge_id = b.id AND mb.shop_id = b.shop_id)`

func scanBadge(r db.Scanner) (Badge, error) {
	var b Badge
	var created int64
	err := r.Scan(&b.ID, &b.Name, &b.Description, &b.Kind, &b.Threshold, &b.Points, &b.Enabled, &created, &b.Holders)
	b.CreatedAt = time.UnixMilli(created).UTC()
	return b, err
}

// Badges lists the shop's badges, oldest first (at most MaxBadges).
func (s *Service) Badges(ctx context.Context, shopID int64) ([]Badge, error) {
	list, err := db.All(ctx, s.db, scanBadge, `SELECT `+badgeColumns+` FROM badges b WHERE b.shop_id = ? ORDER BY b.id`, shopID)
	return list, errs.Wrap("list badges", err)
}

// Badge reads one badge.
func (s *Service) Badge(ctx context.Context, shopID, id int64) (Badge, error) {
	b, err := scanBadge(s.db.QueryRow(ctx, `SELECT `+badgeColumns+` FROM badges b WHERE b.id = ? AND b.shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return Badge{}, errBadgeNotFound
	}
	return b, errs.Wrap("get badge", err)
}

// CreateBadge defines a badge. Members already past its threshold get it
// with their next event of its kind.
func (s *Service) CreateBadge(ctx context.Context, shopID int64, in BadgeInput) (Badge, error) {
	if err := in.validate(); err != nil {
		return Badge{}, err
	}
	var id int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var n int64
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM badges WHERE shop_id = ?`, shopID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxBadges {
			return errTooMany
		}
		now := s.now().UnixMilli()
		return tx.QueryRow(ctx, `INSERT INTO badges (shop_id, name, description, kind, threshold, points, enabled, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, shopID, in.Name, in.Description, in.Kind, in.Threshold, in.Points,
			in.enabled(), now, now).Scan(&id)
	})
	if err != nil {
		return Badge{}, errs.Wrap("create badge", err)
	}
	return s.Badge(ctx, shopID, id)
}

// UpdateBadge changes a badge; holders keep it whatever the new threshold.
func (s *Service) UpdateBadge(ctx context.Context, shopID, id int64, in BadgeInput) (Badge, error) {
	if err := in.validate(); err != nil {
		return Badge{}, err
	}
	err := db.ExpectOne(s.db.Exec(ctx, `UPDATE badges SET name = ?, description = ?, kind = ?, threshold = ?, points = ?, enabled = ?,
		updated_at = ? WHERE id = ? AND shop_id = ?`, in.Name, in.Description, in.Kind, in.Threshold, in.Points, in.enabled(),
		s.now().UnixMilli(), id, shopID))
	if db.IsNoRows(err) {
		return Badge{}, errBadgeNotFound
	}
	if err != nil {
		return Badge{}, errs.Wrap("update badge", err)
	}
	return s.Badge(ctx, shopID, id)
}

// DeleteBadge removes a badge nobody holds.
func (s *Service) DeleteBadge(ctx context.Context, shopID, id int64) error {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var held int64
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM member_badges WHERE badge_id = ? AND shop_id = ?`, id, shopID).Scan(&held); err != nil {
			return err
		}
		if held > 0 {
			return errBadgeAwarded
		}
		err := db.ExpectOne(tx.Exec(ctx, `DELETE FROM badges WHERE id = ? AND shop_id = ?`, id, shopID))
		if db.IsNoRows(err) {
			return errBadgeNotFound
		}
		return err
	})
	return errs.Wrap("delete badge", err)
}

// award gives the member every enabled badge of kind whose threshold value
// reaches, once each (unique member and badge), with its points.
func (s *Service) award(ctx context.Context, tx *db.Tx, shopID, memberID int64, kind string, value int64) error {
	type due struct{ id, points int64 }
	list, err := db.All(ctx, tx, func(r db.Scanner) (due, error) {
		var d due
		return d, r.Scan(&d.id, &d.points)
	}, `SELECT id, points FROM badges WHERE shop_id = ? AND kind = ? AND enabled = TRUE AND threshold <= ? ORDER BY id`,
		shopID, kind, value)
	if err != nil {
		return err
	}
	now := s.now().UnixMilli()
	var won int64
	for _, d := range list {
		var got int64
		err := tx.QueryRow(ctx, `INSERT INTO member_badges (shop_id, member_id, badge_id, awarded_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (shop_id, member_id, badge_id) DO NOTHING RETURNING badge_id`, shopID, memberID, d.id, now).Scan(&got)
		if db.IsNoRows(err) {
			continue // held already
		}
		if err != nil {
			return err
		}
		won++
		if d.points > 0 && s.rewards != nil {
			key := fmt.Sprintf("badge:%d:%d", memberID, d.id)
			if err := s.rewards.Earn(ctx, tx, shopID, memberID, d.points, "badge", itoa(d.id), key); err != nil {
				return err
			}
		}
	}
	if won == 0 {
		return nil
	}
	_, err = tx.Exec(ctx, `INSERT INTO member_records (shop_id, member_id, badges, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (shop_id, member_id) DO UPDATE SET badges = member_records.badges + excluded.badges,
		updated_at = excluded.updated_at`, shopID, memberID, won, now)
	return err
}

// MemberBadge is a badge a member holds, as staff see it.
type MemberBadge struct {
	BadgeID   int64     `json:"badge_id"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind" enum:"checkin_streak,orders_received,spent"`
	Threshold int64     `json:"threshold"`
	AwardedAt time.Time `json:"awarded_at"`
}

// MemberBadges lists the badges a member of the shop holds, newest first.
func (s *Service) MemberBadges(ctx context.Context, shopID, memberID int64) ([]MemberBadge, error) {
	if err := member.InShop(ctx, s.db, shopID, memberID); err != nil {
		return nil, errs.Wrap("member badges", err)
	}
	list, err := db.All(ctx, s.db, func(r db.Scanner) (MemberBadge, error) {
		var m MemberBadge
		var at int64
		err := r.Scan(&m.BadgeID, &m.Name, &m.Kind, &m.Threshold, &at)
		m.AwardedAt = time.UnixMilli(at).UTC()
		return m, err
	}, `SELECT b.id, b.name, b.kind, b.threshold, mb.awarded_at FROM member_badges mb
		JOIN badges b ON b.id = mb.badge_id AND b.shop_id = mb.shop_id
		WHERE mb.shop_id = ? AND mb.member_id = ? ORDER BY mb.awarded_at DESC, b.id DESC`, shopID, memberID)
	return list, errs.Wrap("member badges", err)
}

// BuyerBadges is the buyer's badges: those held and those still ahead
// (enabled), with the progress toward each.
func (s *Service) BuyerBadges(ctx context.Context, shopID, memberID int64) ([]BuyerBadge, error) {
	var streak, orders, spent int64
	err := s.db.QueryRow(ctx, `SELECT longest_streak, orders_received, spent FROM member_records WHERE shop_id = ? AND member_id = ?`,
		shopID, memberID).Scan(&streak, &orders, &spent)
	if err != nil && !db.IsNoRows(err) {
		return nil, errs.Wrap("my badges", err)
	}
	values := map[string]int64{KindStreak: streak, KindOrders: orders, KindSpent: spent}
	list, err := db.All(ctx, s.db, func(r db.Scanner) (BuyerBadge, error) {
		var b BuyerBadge
		var at *int64
		err := r.Scan(&b.ID, &b.Name, &b.Description, &b.Kind, &b.Threshold, &at)
		if at != nil {
			t := time.UnixMilli(*at).UTC()
			b.Earned, b.AwardedAt = true, &t
		}
		return b, err
	}, `SELECT b.id, b.name, b.description, b.kind, b.threshold, mb.awarded_at FROM badges b
		LEFT JOIN member_badges mb ON mb.badge_id = b.id AND mb.shop_id = b.shop_id AND mb.member_id = ?
		WHERE b.shop_id = ? AND (b.enabled = TRUE OR mb.awarded_at IS NOT NULL) ORDER BY b.id`, memberID, shopID)
	if err != nil {
		return nil, errs.Wrap("my badges", err)
	}
	for i := range list {
		list[i].Progress = min(values[list[i].Kind], list[i].Threshold)
	}
	return list, nil
}
