package content

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/member"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Grant is what GrantTx writes.
type Grant struct {
	ShopID, MemberID int64
	TargetKind       string // course | package | plan | camp
	TargetID         int64
	Source           string // purchase | membership | gift | grant | trial
	SourceRef        string // unique per shop: the same ref never grants twice (idempotency)
	Days             int    // 0 = no end
	By               string // who: "member:12", "staff:3", "system"
	Note             string
}

// Entitlement is who may see what, from when to when, from which source.
type Entitlement struct {
	ID           int64      `json:"id"`
	ShopID       int64      `json:"-"`
	MemberID     int64      `json:"member_id"`
	TargetKind   string     `json:"target_kind" enum:"course,package,plan,camp"`
	TargetID     int64      `json:"target_id"`
	Source       string     `json:"source" enum:"purchase,membership,gift,grant,trial"`
	SourceRef    string     `json:"source_ref"`
	StartsAt     time.Time  `json:"starts_at"`
	EndsAt       *time.Time `json:"ends_at" doc:"null: no end"`
	RevokedAt    *time.Time `json:"revoked_at"`
	RevokeReason string     `json:"revoke_reason"`
	CreatedAt    time.Time  `json:"created_at"`
}

var (
	errEntitlementNotFound = errs.E(errs.NotFound, "entitlement_not_found", "no entitlement under that reference")
	errRefReused           = errs.E(errs.Conflict, "source_ref_reused", "that reference already granted something else")
	errReasonRequired      = errs.Field("reason", "reason_required", "a reason is required (1 to 200 characters)")
)

const entCols = `id, shop_id, member_id, target_kind, target_id, source, source_ref, starts_at, ends_at, revoked_at, revoke_reason, created_at`

func scanEnt(r db.Scanner) (Entitlement, error) {
	var e Entitlement
	var starts, created int64
	var ends, revoked sql.NullInt64
	err := r.Scan(&e.ID, &e.ShopID, &e.MemberID, &e.TargetKind, &e.TargetID, &e.Source, &e.SourceRef, &starts, &ends, &revoked, &e.RevokeReason, &created)
	e.StartsAt, e.CreatedAt = fromMS(starts), fromMS(created)
	if ends.Valid {
		e.EndsAt = optMS(&ends.Int64)
	}
	if revoked.Valid {
		e.RevokedAt = optMS(&revoked.Int64)
	}
	return e, err
}

func byRef(ctx context.Context, q db.Querier, shopID int64, ref string) (Entitlement, error) {
	e, err := scanEnt(q.QueryRow(ctx, `SELECT `+entCols+` FROM content_entitlements WHERE shop_id = ? AND source_ref = ?`, shopID, ref))
	if db.IsNoRows(err) {
		return Entitlement{}, errEntitlementNotFound
	}
	return e, err
}

func (g *Grant) check() error {
	var v errs.Validator
	v.Check(g.TargetKind == KindCourse || g.TargetKind == KindPackage || g.TargetKind == KindPlan || g.TargetKind == KindCamp,
		"target_kind", "must be course, package, plan or camp")
	v.Check(g.TargetID > 0, "target_id", "must be positive")
	v.Check(sources[g.Source], "source", "must be purchase, membership, gift, grant or trial")
	v.Check(g.SourceRef != "" && len(g.SourceRef) <= 200, "source_ref", "1 to 200 bytes")
	v.Check(g.Days >= 0 && g.Days <= MaxDays, "days", "0 (no end) to 36500")
	v.Check(utf8.RuneCountInString(g.Note) <= 500, "note", "at most 500 characters")
	return v.Err()
}

// targetTables are the tables of the target kinds this package owns (a
// camp is internal/camp's: its existence is the caller's to check).
var targetTables = map[string]string{KindCourse: "content_courses", KindPackage: "content_packages", KindPlan: "content_plans"}

// GrantTx writes an entitlement in the caller's transaction. Idempotent by
// (shop, SourceRef): a second call with the same ref returns the first
// entitlement and created=false (the same ref for another member or
// target: 409 source_ref_reused). A timed grant starts at max(now, the
// latest end among the member's unrevoked entitlements of the same target):
// renewal after a lapse starts now, renewal before the end extends from the
// end. The member's holder row is updated first, so grants and revokes of
// one member are serialised (a row lock on PostgreSQL, the single writer on
// SQLite) and two renewals racing cannot both start from the same end.
func (s *Service) GrantTx(ctx context.Context, tx *db.Tx, g Grant) (Entitlement, bool, error) {
	if err := g.check(); err != nil {
		return Entitlement{}, false, err
	}
	if err := member.InShop(ctx, tx, g.ShopID, g.MemberID); err != nil {
		return Entitlement{}, false, err
	}
	if table := targetTables[g.TargetKind]; table != "" {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM `+table+` WHERE id = ? AND shop_id = ?`, g.TargetID, g.ShopID).Scan(&one)
		if db.IsNoRows(err) {
			return Entitlement{}, false, errs.E(errs.NotFound, g.TargetKind+"_not_found", "no such "+g.TargetKind)
		}
		if err != nil {
			return Entitlement{}, false, errs.Wrap("grant target", err)
		}
	}
	now := s.now()
	if err := lockHolder(ctx, tx, g.ShopID, g.MemberID, now); err != nil {
		return Entitlement{}, false, errs.Wrap("lock holder", err)
	}
	// Under the lock: a grant of the same ref that committed meanwhile is seen.
	if e, err := byRef(ctx, tx, g.ShopID, g.SourceRef); err == nil {
		if e.MemberID != g.MemberID || e.TargetKind != g.TargetKind || e.TargetID != g.TargetID {
			return Entitlement{}, false, errRefReused
		}
		return e, false, nil
	} else if !errs.Is(err, "entitlement_not_found") {
		return Entitlement{}, false, errs.Wrap("grant by ref", err)
	}
	start, end, err := s.period(ctx, tx, g, now)
	if err != nil {
		return Entitlement{}, false, errs.Wrap("grant period", err)
	}
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO content_entitlements (shop_id, member_id, target_kind, target_id, source, source_ref, starts_at, ends_at,
		note, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		g.ShopID, g.MemberID, g.TargetKind, g.TargetID, g.Source, g.SourceRef, start, end, g.Note, g.By, ms(now)).Scan(&id)
	if db.IsUniqueViolation(err) { // the same ref granted concurrently for another member
		return Entitlement{}, false, errRefReused
	}
	if err != nil {
		return Entitlement{}, false, errs.Wrap("grant", err)
	}
	if err := logEvent(ctx, tx, g.ShopID, id, g.MemberID, "grant", g.By, g.Note, now); err != nil {
		return Entitlement{}, false, errs.Wrap("grant event", err)
	}
	s.cache.invalidate(g.ShopID, g.MemberID)
	e, err := scanEnt(tx.QueryRow(ctx, `SELECT `+entCols+` FROM content_entitlements WHERE id = ?`, id))
	return e, true, errs.Wrap("granted", err)
}

// period is where a new grant starts and ends (end nil: no end).
func (s *Service) period(ctx context.Context, tx *db.Tx, g Grant, now time.Time) (int64, any, error) {
	start := ms(now)
	if g.Days == 0 {
		return start, nil, nil
	}
	var latest sql.NullInt64
	err := tx.QueryRow(ctx, `SELECT MAX(ends_at) FROM content_entitlements WHERE shop_id = ? AND member_id = ? AND target_kind = ? AND target_id = ?
		AND revoked_at IS NULL`, g.ShopID, g.MemberID, g.TargetKind, g.TargetID).Scan(&latest)
	if err != nil {
		return 0, nil, err
	}
	if latest.Valid && latest.Int64 > start {
		start = latest.Int64
	}
	return start, start + int64(g.Days)*24*3600*1000, nil
}

// lockHolder updates the member's holder row (creating it): on PostgreSQL
// the row stays locked until the transaction ends.
func lockHolder(ctx context.Context, tx *db.Tx, shopID, memberID int64, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO content_holders (shop_id, member_id, version, updated_at) VALUES (?, ?, 1, ?)
		ON CONFLICT (shop_id, member_id) DO UPDATE SET version = content_holders.version + 1, updated_at = excluded.updated_at`,
		shopID, memberID, ms(now))
	return err
}

func logEvent(ctx context.Context, tx *db.Tx, shopID, entID, memberID int64, kind, actor, reason string, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO content_entitlement_events (shop_id, entitlement_id, member_id, kind, actor, reason, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, shopID, entID, memberID, kind, actor, reason, ms(now))
	return err
}

func checkReason(reason string) error {
	n := utf8.RuneCountInString(strings.TrimSpace(reason))
	if n < 1 || n > 200 {
		return errReasonRequired
	}
	return nil
}

// RevokeTx revokes the entitlement granted under sourceRef (reason
// required; never deletes). Revoking an already revoked one is a no-op
// (returns it). errs NotFound if no such ref in the shop. Only this ends a
// paid period: later entitlements of the same target keep their dates.
func (s *Service) RevokeTx(ctx context.Context, tx *db.Tx, shopID int64, sourceRef, reason, by string) (Entitlement, error) {
	if err := checkReason(reason); err != nil {
		return Entitlement{}, err
	}
	e, err := byRef(ctx, tx, shopID, sourceRef)
	if err != nil {
		return Entitlement{}, errs.Wrap("revoke by ref", err)
	}
	now := s.now()
	if err := lockHolder(ctx, tx, shopID, e.MemberID, now); err != nil {
		return Entitlement{}, errs.Wrap("lock holder", err)
	}
	res, err := tx.Exec(ctx, `UPDATE content_entitlements SET revoked_at = ?, revoke_reason = ?, revoked_by = ?
		WHERE id = ? AND shop_id = ? AND revoked_at IS NULL`, ms(now), strings.TrimSpace(reason), by, e.ID, shopID)
	if err := db.ExpectOne(res, err); db.IsNoRows(err) {
		return byRef(ctx, tx, shopID, sourceRef) // revoked already (perhaps just now): a no-op
	} else if err != nil {
		return Entitlement{}, errs.Wrap("revoke", err)
	}
	if err := logEvent(ctx, tx, shopID, e.ID, e.MemberID, "revoke", by, strings.TrimSpace(reason), now); err != nil {
		return Entitlement{}, errs.Wrap("revoke event", err)
	}
	s.cache.invalidate(shopID, e.MemberID)
	return byRef(ctx, tx, shopID, sourceRef)
}

// StaffGrantInput is a grant by staff (in the console).
type StaffGrantInput struct {
	TargetKind string `json:"target_kind" enum:"course,package,plan"`
	TargetID   int64  `json:"target_id"`
	Days       int    `json:"days" doc:"0: no end"`
	Reason     string `json:"reason" doc:"why (required; logged)"`
}

// StaffRevokeInput revokes with a reason.
type StaffRevokeInput struct {
	Reason string `json:"reason" doc:"why (required; logged)"`
}

// StaffGrant grants a member something by hand: source grant, ref
// staff:<Idempotency-Key>, so a retried request grants once.
func (s *Service) StaffGrant(ctx context.Context, shopID, memberID, staffID int64, key string, in StaffGrantInput) (Entitlement, error) {
	if len(key) < 8 || len(key) > 64 {
		return Entitlement{}, errs.Field("Idempotency-Key", "idempotency_key_required", "send an Idempotency-Key header of 8 to 64 characters")
	}
	if err := checkReason(in.Reason); err != nil {
		return Entitlement{}, err
	}
	if in.TargetKind == KindCamp {
		return Entitlement{}, errs.Field("target_kind", "invalid_fields", "must be course, package or plan")
	}
	var e Entitlement
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		e, _, err = s.GrantTx(ctx, tx, Grant{ShopID: shopID, MemberID: memberID, TargetKind: in.TargetKind, TargetID: in.TargetID,
			Source: "grant", SourceRef: "staff:" + key, Days: in.Days, By: fmt.Sprintf("staff:%d", staffID), Note: strings.TrimSpace(in.Reason)})
		if errs.Is(err, "source_ref_reused") {
			return errs.E(errs.Conflict, "idempotency_key_reused", "that Idempotency-Key already granted something else")
		}
		return err
	})
	return e, err
}

// StaffRevoke revokes one of the shop's entitlements by id.
func (s *Service) StaffRevoke(ctx context.Context, shopID, entID, staffID int64, in StaffRevokeInput) (Entitlement, error) {
	if err := checkReason(in.Reason); err != nil {
		return Entitlement{}, err
	}
	var ref string
	err := s.db.QueryRow(ctx, `SELECT source_ref FROM content_entitlements WHERE id = ? AND shop_id = ?`, entID, shopID).Scan(&ref)
	if db.IsNoRows(err) {
		return Entitlement{}, errEntitlementNotFound
	}
	if err != nil {
		return Entitlement{}, errs.Wrap("revoke", err)
	}
	var e Entitlement
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		e, err = s.RevokeTx(ctx, tx, shopID, ref, in.Reason, fmt.Sprintf("staff:%d", staffID))
		return err
	})
	return e, err
}

// Entitlements lists a member's entitlements, newest first (revoked too).
func (s *Service) Entitlements(ctx context.Context, shopID, memberID int64, after int64, limit int) ([]Entitlement, error) {
	if err := member.InShop(ctx, s.db, shopID, memberID); err != nil {
		return nil, err
	}
	if after == 0 {
		after = 1<<63 - 1
	}
	list, err := db.All(ctx, s.db, scanEnt, `SELECT `+entCols+` FROM content_entitlements WHERE shop_id = ? AND member_id = ? AND id < ?
		ORDER BY id DESC LIMIT ?`, shopID, memberID, after, limit+1)
	return list, errs.Wrap("entitlements", err)
}

// Event is one line of an entitlement's log.
type Event struct {
	ID            int64     `json:"id"`
	EntitlementID int64     `json:"entitlement_id"`
	Kind          string    `json:"kind" enum:"grant,revoke"`
	Actor         string    `json:"actor" doc:"member:<id>, staff:<id> or system"`
	Reason        string    `json:"reason"`
	CreatedAt     time.Time `json:"created_at"`
}

// Events lists the grant and revoke log of a member, newest first.
func (s *Service) Events(ctx context.Context, shopID, memberID int64, after int64, limit int) ([]Event, error) {
	if err := member.InShop(ctx, s.db, shopID, memberID); err != nil {
		return nil, err
	}
	if after == 0 {
		after = 1<<63 - 1
	}
	list, err := db.All(ctx, s.db, func(r db.Scanner) (Event, error) {
		var e Event
		var at int64
		err := r.Scan(&e.ID, &e.EntitlementID, &e.Kind, &e.Actor, &e.Reason, &at)
		e.CreatedAt = fromMS(at)
		return e, err
	}, `SELECT id, entitlement_id, kind, actor, reason, created_at FROM content_entitlement_events WHERE shop_id = ? AND member_id = ? AND id < ?
		ORDER BY id DESC LIMIT ?`, shopID, memberID, after, limit+1)
	return list, errs.Wrap("entitlement events", err)
}
