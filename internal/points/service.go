package points

import (
	"context"
	"github.com/kaidian/kaidian/internal/member"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Earn gives a member points as a reward of another room (check-in, a
// task, a badge) inside that room's transaction. key makes it happen once:
// a repeated key changes nothing. The lot expires by the shop's rules.
func (s *Service) Earn(ctx context.Context, tx *db.Tx, shopID, memberID, points int64, reason, sourceID, key string) error {
	if points <= 0 || points > MaxPoints {
		return errs.Field("points", "invalid_points", "must be 1 to 1000000000")
	}
	st, err := settingsOf(ctx, tx, shopID)
	if err != nil {
		return err
	}
	now := s.now()
	_, err = add(ctx, tx, change{shopID: shopID, memberID: memberID, points: points, kind: KindReward, reason: reason,
		sourceType: sourceTypeOf(key), sourceID: sourceID, key: key, expiresAt: st.expiresAt(now)}, now.UnixMilli())
	return err
}

// CourseCompleted rewards a member who completed a paid-content course
// with the shop's course points (none when 0), once per course, in the
// completion's transaction.
func (s *Service) CourseCompleted(ctx context.Context, tx *db.Tx, shopID, memberID, courseID int64) error {
	st, err := settingsOf(ctx, tx, shopID)
	if err != nil || st.CoursePoints == 0 {
		return err
	}
	return s.Earn(ctx, tx, shopID, memberID, st.CoursePoints, "完成课程", itoa(courseID), "course:"+itoa(memberID)+":"+itoa(courseID))
}

// sourceTypeOf is the room of a reward key ("checkin:…" → "checkin").
func sourceTypeOf(key string) string {
	for i := 0; i < len(key); i++ {
		if key[i] == ':' {
			return key[:i]
		}
	}
	return "reward"
}

// AdjustInput is a staff adjustment.
type AdjustInput struct {
	Delta  int64  `json:"delta" doc:"points to add (positive) or take (negative, at most the balance); not 0"`
	Reason string `json:"reason" doc:"why, 1–200 characters (kept in the ledger)"`
}

// Adjust adds or takes a member's points by staff, with a reason; the
// idempotency key makes a retried request apply once.
func (s *Service) Adjust(ctx context.Context, shopID, memberID, staffID int64, key string, in AdjustInput) (Account, error) {
	if len(key) < 8 || len(key) > 64 {
		return Account{}, errs.Field("Idempotency-Key", "idempotency_key_required", "send an Idempotency-Key header of 8 to 64 characters")
	}
	var v errs.Validator
	v.Check(in.Delta != 0 && in.Delta >= -MaxPoints && in.Delta <= MaxPoints, "delta", "must be a whole number of points, not 0, within ±1000000000")
	n := len([]rune(in.Reason))
	v.Check(n >= 1 && n <= 200, "reason", "must be 1 to 200 characters")
	if err := v.Err(); err != nil {
		return Account{}, err
	}
	st, err := s.Settings(ctx, shopID)
	if err != nil {
		return Account{}, err
	}
	now := s.now()
	c := change{shopID: shopID, memberID: memberID, points: in.Delta, kind: KindAdjust, reason: in.Reason,
		sourceType: "staff", sourceID: itoa(staffID), key: "adjust:" + key, actorID: staffID}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := member.InShop(ctx, tx, shopID, memberID); err != nil {
			return err
		}
		if in.Delta > 0 {
			c.expiresAt = st.expiresAt(now)
			_, err := add(ctx, tx, c, now.UnixMilli())
			return err
		}
		c.points = -in.Delta
		_, _, err := take(ctx, tx, c, now.UnixMilli())
		return err
	})
	if err != nil {
		return Account{}, errs.Wrap("adjust points", err)
	}
	return s.Account(ctx, shopID, memberID)
}

// Account reads a member's points.
func (s *Service) Account(ctx context.Context, shopID, memberID int64) (Account, error) {
	a, err := account(ctx, s.db, shopID, memberID, s.now().UnixMilli())
	return a, errs.Wrap("points account", err)
}

// Expiring is points that go at one moment.
type Expiring struct {
	Points    int64     `json:"points"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ExpiringSoon lists what of the balance expires when, soonest first (at
// most 12 moments).
func (s *Service) ExpiringSoon(ctx context.Context, shopID, memberID int64) ([]Expiring, error) {
	rows, err := s.db.Query(ctx, `SELECT expires_at, CAST(SUM(remaining) AS BIGINT) FROM points_entries
		WHERE shop_id = ? AND member_id = ? AND remaining > 0 AND expires_at > ?
		GROUP BY expires_at ORDER BY expires_at LIMIT 12`, shopID, memberID, s.now().UnixMilli())
	if err != nil {
		return nil, errs.Wrap("expiring points", err)
	}
	defer rows.Close()
	out := []Expiring{}
	for rows.Next() {
		var at, n int64
		if err := rows.Scan(&at, &n); err != nil {
			return nil, err
		}
		out = append(out, Expiring{Points: n, ExpiresAt: time.UnixMilli(at).UTC()})
	}
	return out, rows.Err()
}

// Entries lists a member's ledger, newest first.
func (s *Service) Entries(ctx context.Context, shopID, memberID, after int64, limit int) ([]Entry, error) {
	rows, err := s.db.Query(ctx, `SELECT id, delta, kind, reason, source_type, source_id, remaining, expires_at, COALESCE(actor_id, 0), created_at
		FROM points_entries WHERE shop_id = ? AND member_id = ? AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?`,
		shopID, memberID, after, after, limit+1)
	if err != nil {
		return nil, errs.Wrap("points entries", err)
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		var e Entry
		var expires *int64
		var created int64
		if err := rows.Scan(&e.ID, &e.Delta, &e.Kind, &e.Reason, &e.SourceType, &e.SourceID, &e.Remaining, &expires, &e.ActorID, &created); err != nil {
			return nil, err
		}
		if expires != nil {
			t := time.UnixMilli(*expires).UTC()
			e.ExpiresAt = &t
		}
		e.CreatedAt = time.UnixMilli(created).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
