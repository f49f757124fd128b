package moderation

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Decision is one entry of the decision log.
type Decision struct {
	ID          int64     `json:"id"`
	ItemID      int64     `json:"item_id,omitempty"`
	ComplaintID int64     `json:"complaint_id,omitempty"`
	Actor       string    `json:"actor" doc:"staff:<account id> or system"`
	Action      string    `json:"action" enum:"approve,reject,ban,lift_ban,take_down,reject_complaint" doc:"approve, reject, ban, lift_ban, take_down or reject_complaint"`
	Note        string    `json:"note"`
	CreatedAt   time.Time `json:"created_at"`
}

// BanInput bans an item's author.
type BanInput struct {
	Days   int    `json:"days" doc:"1 to 3650"`
	Reason string `json:"reason" doc:"2 to 200 characters"`
}

// Settings are a shop's moderation settings.
type Settings struct {
	WeChatCheck bool `json:"wechat_check" doc:"also check submitted text with WeChat's msg_sec_check"`
}

func checkReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n < 2 || n > 200 || !clean(reason) {
		return "", errs.Field("reason", "reason_required", "say why, in 2 to 200 characters")
	}
	return reason, nil
}

// Approve publishes a pending item.
func (s *Service) Approve(ctx context.Context, shopID, id int64, actor string) (Item, error) {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		return moveItem(ctx, tx, shopID, id, []string{Pending}, Published, "", actor, "approve", "")
	})
	if err != nil {
		return Item{}, errs.Wrap("approve", err)
	}
	it, err := s.GetItem(ctx, shopID, id)
	return s.published(ctx, shopID, it, err)
}

// Reject takes a pending or published item down with a reason.
func (s *Service) Reject(ctx context.Context, shopID, id int64, actor, reason string) (Item, error) {
	reason, err := checkReason(reason)
	if err != nil {
		return Item{}, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		return moveItem(ctx, tx, shopID, id, []string{Pending, Published}, Rejected, reason, actor, "reject", reason)
	})
	if err != nil {
		return Item{}, errs.Wrap("reject", err)
	}
	return s.GetItem(ctx, shopID, id)
}

// Ban rejects the item (unless already down) and bars its author from
// submitting for the given number of days.
func (s *Service) Ban(ctx context.Context, shopID, id int64, actor string, in BanInput) (Item, error) {
	reason, err := checkReason(in.Reason)
	if err != nil {
		return Item{}, err
	}
	if in.Days < 1 || in.Days > 3650 {
		return Item{}, errs.Field("days", "invalid_days", "must be 1 to 3650")
	}
	it, err := s.GetItem(ctx, shopID, id)
	if err != nil {
		return Item{}, err
	}
	if it.MemberID == 0 {
		return Item{}, errs.E(errs.Conflict, "no_author", "this item has no buyer to ban (it is staff's product text)")
	}
	until := time.Now().Add(time.Duration(in.Days) * 24 * time.Hour).UnixMilli()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if it.Status == Pending || it.Status == Published {
			if err := moveItem(ctx, tx, shopID, id, []string{it.Status}, Rejected, reason, actor, "reject", reason); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO moderation_bans (shop_id, member_id, until_at, reason, actor, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, shopID, it.MemberID, until, reason, actor, db.Now()); err != nil {
			return err
		}
		return logDecision(ctx, tx, shopID, id, 0, actor, "ban", reason+" (until "+time.UnixMilli(until).UTC().Format(time.RFC3339)+")")
	})
	if err != nil {
		return Item{}, errs.Wrap("ban", err)
	}
	return s.GetItem(ctx, shopID, id)
}

// moveItem changes an item's status with a compare-and-set and logs it.
func moveItem(ctx context.Context, tx *db.Tx, shopID, id int64, from []string, to, reason, actor, action, note string) error {
	var status string
	err := tx.QueryRow(ctx, `SELECT status FROM moderation_items WHERE id = ? AND shop_id = ?`, id, shopID).Scan(&status)
	if db.IsNoRows(err) {
		return errItemNotFound
	}
	if err != nil {
		return err
	}
	if !contains(from, status) {
		return errs.E(errs.Conflict, "content_state", "the content is "+status+"; this needs "+strings.Join(from, " or "))
	}
	err = db.ExpectOne(tx.Exec(ctx, `UPDATE moderation_items SET status = ?, reject_reason = ?, updated_at = ?
		WHERE id = ? AND shop_id = ? AND status = ?`, to, reason, db.Now(), id, shopID, status))
	if db.IsNoRows(err) {
		return errs.E(errs.Conflict, "content_state", "the content changed meanwhile; reload")
	}
	if err != nil {
		return err
	}
	return logDecision(ctx, tx, shopID, id, 0, actor, action, note)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func logDecision(ctx context.Context, tx *db.Tx, shopID, itemID, complaintID int64, actor, action, note string) error {
	_, err := tx.Exec(ctx, `INSERT INTO moderation_decisions (shop_id, item_id, complaint_id, actor, action, note, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, shopID, nullID(itemID), nullID(complaintID), actor, action, note, db.Now())
	return err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Decisions returns the shop's decision log, newest first.
func (s *Service) Decisions(ctx context.Context, shopID, after int64, limit int) ([]Decision, error) {
	if limit <= 0 || limit > 101 { // a page of 100 asks for one more
		limit = 50
	}
	rows, err := s.db.Query(ctx, `SELECT id, COALESCE(item_id, 0), COALESCE(complaint_id, 0), actor, action, note, created_at
		FROM moderation_decisions WHERE shop_id = ? AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?`, shopID, after, after, limit)
	if err != nil {
		return nil, errs.Wrap("decisions", err)
	}
	defer rows.Close()
	out := []Decision{}
	for rows.Next() {
		var d Decision
		var created int64
		if err := rows.Scan(&d.ID, &d.ItemID, &d.ComplaintID, &d.Actor, &d.Action, &d.Note, &created); err != nil {
			return nil, errs.Wrap("decisions", err)
		}
		d.CreatedAt = time.UnixMilli(created).UTC()
		out = append(out, d)
	}
	return out, errs.Wrap("decisions", rows.Err())
}

// bannedUntil reports whether the member is banned now, and until when.
func (s *Service) bannedUntil(ctx context.Context, shopID, memberID int64) (time.Time, bool, error) {
	var until int64
	err := s.db.QueryRow(ctx, `SELECT COALESCE(MAX(until_at), 0) FROM moderation_bans WHERE shop_id = ? AND member_id = ?`,
		shopID, memberID).Scan(&until)
	if err != nil || until <= db.Now() {
		return time.Time{}, false, err
	}
	return time.UnixMilli(until).UTC(), true, nil
}

// GetSettings returns the shop's settings (defaults when never set).
func (s *Service) GetSettings(ctx context.Context, shopID int64) (Settings, error) {
	on, err := s.wechatOn(ctx, shopID)
	return Settings{WeChatCheck: on}, errs.Wrap("settings", err)
}

// PutSettings stores the shop's settings.
func (s *Service) PutSettings(ctx context.Context, shopID int64, in Settings) (Settings, error) {
	_, err := s.db.Exec(ctx, `INSERT INTO moderation_settings (shop_id, wechat_check, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (shop_id) DO UPDATE SET wechat_check = excluded.wechat_check, updated_at = excluded.updated_at`,
		shopID, in.WeChatCheck, db.Now())
	if err != nil {
		return Settings{}, errs.Wrap("settings", err)
	}
	return s.GetSettings(ctx, shopID)
}

func (s *Service) wechatOn(ctx context.Context, shopID int64) (bool, error) {
	var on bool
	err := s.db.QueryRow(ctx, `SELECT wechat_check FROM moderation_settings WHERE shop_id = ?`, shopID).Scan(&on)
	if db.IsNoRows(err) {
		return false, nil
	}
	return on, err
}

// Ban is a member's ban from submitting content.
type Ban struct {
	ID        int64     `json:"id"`
	MemberID  int64     `json:"member_id"`
	Until     time.Time `json:"until"`
	Reason    string    `json:"reason"`
	Actor     string    `json:"actor"`
	CreatedAt time.Time `json:"created_at"`
}

// ActiveBans lists the shop's bans that have not ended, newest first, with
// ids below after (0 = from the newest): up to limit+1, so the caller knows
// whether a next page exists.
func (s *Service) ActiveBans(ctx context.Context, shopID, after int64, limit int) ([]Ban, error) {
	if after <= 0 {
		after = 1 << 62
	}
	rows, err := s.db.Query(ctx, `SELECT id, member_id, until_at, reason, actor, created_at FROM moderation_bans
		WHERE shop_id = ? AND until_at > ? AND id < ? ORDER BY id DESC LIMIT ?`, shopID, db.Now(), after, limit+1)
	if err != nil {
		return nil, errs.Wrap("bans", err)
	}
	defer rows.Close()
	out := []Ban{}
	for rows.Next() {
		var b Ban
		var until, created int64
		if err := rows.Scan(&b.ID, &b.MemberID, &until, &b.Reason, &b.Actor, &created); err != nil {
			return nil, errs.Wrap("bans", err)
		}
		b.Until, b.CreatedAt = time.UnixMilli(until).UTC(), time.UnixMilli(created).UTC()
		out = append(out, b)
	}
	return out, errs.Wrap("bans", rows.Err())
}

// LiftBan ends a ban now and logs it.
func (s *Service) LiftBan(ctx context.Context, shopID, id int64, actor string) error {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		now := db.Now()
		err := db.ExpectOne(tx.Exec(ctx, `UPDATE moderation_bans SET until_at = ? WHERE id = ? AND shop_id = ? AND until_at > ?`, now, id, shopID, now))
		if db.IsNoRows(err) {
			return errs.E(errs.NotFound, "ban_not_found", "no such active ban")
		}
		if err != nil {
			return err
		}
		return logDecision(ctx, tx, shopID, 0, 0, actor, "lift_ban", "ban "+strconv.FormatInt(id, 10))
	})
	return errs.Wrap("lift ban", err)
}
