package contentsale

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// newGiftCode is a gift's claim code: 128 random bits, URL-safe.
func newGiftCode() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Gift is a paid gift as its giver or its claimant sees it.
type Gift struct {
	ID         int64      `json:"id"`
	OrderID    int64      `json:"order_id"`
	Title      string     `json:"title"`
	TargetKind string     `json:"target_kind" enum:"course,package,plan,camp"`
	TargetID   int64      `json:"target_id"`
	Days       int        `json:"days"`
	Code       string     `json:"code,omitempty" doc:"the claim code (only the giver sees it): share it as a link"`
	State      string     `json:"state" enum:"open,claimed,refunded"`
	ClaimedAt  *time.Time `json:"claimed_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

const giftColumns = `g.id, g.order_id, o.title, o.target_kind, o.target_id, o.days, g.code, g.claimed_by, g.claimed_at, g.voided_at, g.created_at, g.giver_id`

type giftRow struct {
	Gift
	giverID   int64
	claimedBy *int64
}

func scanGift(r db.Scanner) (giftRow, error) {
	var g giftRow
	var claimed, voided *int64
	var created int64
	err := r.Scan(&g.ID, &g.OrderID, &g.Title, &g.TargetKind, &g.TargetID, &g.Days, &g.Code, &g.claimedBy, &claimed, &voided, &created, &g.giverID)
	g.ClaimedAt, g.CreatedAt = msTime(claimed), time.UnixMilli(created).UTC()
	switch {
	case voided != nil:
		g.State = "refunded"
	case g.claimedBy != nil:
		g.State = "claimed"
	default:
		g.State = "open"
	}
	return g, err
}

// MyGifts lists the gifts a member bought, newest first, with their codes.
func (s *Service) MyGifts(ctx context.Context, shopID, memberID, after int64, limit int) ([]Gift, error) {
	rows, err := db.All(ctx, s.db, scanGift, `SELECT `+giftColumns+` FROM content_gifts g JOIN content_orders o ON o.id = g.order_id
		WHERE g.shop_id = ? AND g.giver_id = ? AND (? = 0 OR g.id < ?) ORDER BY g.id DESC LIMIT ?`, shopID, memberID, after, after, limit+1)
	out := make([]Gift, len(rows))
	for i, g := range rows {
		out[i] = g.Gift
	}
	return out, err
}

// GiftByCode shows what a claim code gives (without the code).
func (s *Service) GiftByCode(ctx context.Context, shopID int64, code string) (Gift, error) {
	g, err := s.giftByCode(ctx, s.db, shopID, code)
	g.Code = ""
	return g.Gift, err
}

func (s *Service) giftByCode(ctx context.Context, q db.Querier, shopID int64, code string) (giftRow, error) {
	if len(code) == 0 || len(code) > 64 {
		return giftRow{}, errGiftNotFound
	}
	g, err := scanGift(q.QueryRow(ctx, `SELECT `+giftColumns+` FROM content_gifts g JOIN content_orders o ON o.id = g.order_id
		WHERE g.shop_id = ? AND g.code = ?`, shopID, code))
	if db.IsNoRows(err) {
		return g, errGiftNotFound
	}
	return g, errs.Wrap("read gift", err)
}

var errGiftNotFound = errs.E(errs.NotFound, "gift_not_found", "no gift has this code")

// ClaimGift gives the gift's access to the member who claims it, once:
// the order's row is locked first (a refund takes the same lock), then the
// gift is taken by compare-and-set.
func (s *Service) ClaimGift(ctx context.Context, shopID, memberID int64, code string) (Gift, error) {
	g, err := s.giftByCode(ctx, s.db, shopID, code)
	if err != nil {
		return Gift{}, err
	}
	now := s.now().UnixMilli()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := db.ExpectOne(tx.Exec(ctx, `UPDATE content_orders SET updated_at = ? WHERE shop_id = ? AND id = ? AND state = 'paid'`,
			now, shopID, g.OrderID)); db.IsNoRows(err) {
			return errGiftRefunded
		} else if err != nil {
			return errs.Wrap("lock gift order", err)
		}
		cur, err := s.giftByCode(ctx, tx, shopID, code)
		if err != nil {
			return err
		}
		if err := cur.claimableBy(memberID); err != nil {
			return err
		}
		if err := db.ExpectOne(tx.Exec(ctx, `UPDATE content_gifts SET claimed_by = ?, claimed_at = ?
			WHERE shop_id = ? AND id = ? AND claimed_by IS NULL AND voided_at IS NULL`, memberID, now, shopID, g.ID)); db.IsNoRows(err) {
			return errGiftClaimed
		} else if err != nil {
			return errs.Wrap("claim gift", err)
		}
		_, err = s.rights.GrantTx(ctx, tx, Grant{ShopID: shopID, MemberID: memberID, TargetKind: g.TargetKind, TargetID: g.TargetID,
			Source: "gift", SourceRef: "gift:" + strconv.FormatInt(g.ID, 10), Days: g.Days, By: "member:" + strconv.FormatInt(memberID, 10),
			Note: "gift from member " + strconv.FormatInt(g.giverID, 10)})
		if err != nil {
			return err
		}
		return s.event(ctx, tx, shopID, g.OrderID, "gift_claimed", "claimed by member "+strconv.FormatInt(memberID, 10), "member:"+strconv.FormatInt(memberID, 10))
	})
	if err != nil {
		return Gift{}, err
	}
	out, err := s.giftByCode(ctx, s.db, shopID, code)
	out.Code = ""
	return out.Gift, err
}

var (
	errGiftClaimed  = errs.E(errs.Conflict, "gift_claimed", "this gift was already claimed")
	errGiftRefunded = errs.E(errs.Conflict, "gift_refunded", "this gift was refunded and cannot be claimed")
)

func (g giftRow) claimableBy(memberID int64) error {
	switch {
	case g.State == "refunded":
		return errGiftRefunded
	case g.State == "claimed":
		return errGiftClaimed
	case g.giverID == memberID:
		return errs.E(errs.Conflict, "own_gift", "a gift is for someone else: share its link")
	}
	return nil
}

// giftUnclaimed refuses refunding a gift someone claimed (under the order's
// lock, taken by the caller's update).
func giftUnclaimed(ctx context.Context, tx *db.Tx, o orderRow) error {
	var claimed bool
	err := tx.QueryRow(ctx, `SELECT claimed_by IS NOT NULL FROM content_gifts WHERE shop_id = ? AND order_id = ?`, o.shopID, o.ID).Scan(&claimed)
	if err != nil && !db.IsNoRows(err) {
		return errs.Wrap("read gift", err)
	}
	if claimed {
		return errs.E(errs.Conflict, "gift_claimed", "this gift was claimed: its access belongs to someone else now and is not refunded")
	}
	return nil
}

// StartTrial gives a member a plan's free trial, once ever (its source ref
// names the member and the plan).
func (s *Service) StartTrial(ctx context.Context, shopID, memberID, planID int64) (Trial, error) {
	var days int
	err := s.db.QueryRow(ctx, `SELECT days FROM content_trials WHERE shop_id = ? AND plan_id = ?`, shopID, planID).Scan(&days)
	if db.IsNoRows(err) {
		return Trial{}, errs.E(errs.NotFound, "trial_not_offered", "this plan has no free trial")
	}
	if err != nil {
		return Trial{}, errs.Wrap("read trial", err)
	}
	if _, err := s.offers.Offer(ctx, shopID, memberID, KindPlan, planID); err != nil {
		return Trial{}, err
	}
	who := strconv.FormatInt(memberID, 10)
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		created, err := s.rights.GrantTx(ctx, tx, Grant{ShopID: shopID, MemberID: memberID, TargetKind: KindPlan, TargetID: planID,
			Source: "trial", SourceRef: "trial:" + who + ":plan:" + strconv.FormatInt(planID, 10), Days: days, By: "member:" + who, Note: "free trial"})
		if err == nil && !created {
			return errs.E(errs.Conflict, "trial_used", "the free trial of this plan was already used")
		}
		return err
	})
	return Trial{PlanID: planID, Days: days}, err
}
