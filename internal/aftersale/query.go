package aftersale

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

const columns = `id, order_id, member_id, amount, reason, photos, status, reject_reason, refund_id, created_at`

func scan(row interface{ Scan(...any) error }) (Request, error) {
	var r Request
	var photos string
	var refund sql.NullInt64
	var created int64
	if err := row.Scan(&r.ID, &r.OrderID, &r.MemberID, &r.Amount, &r.Reason, &photos, &r.Status, &r.RejectReason, &refund, &created); err != nil {
		return Request{}, err
	}
	_ = json.Unmarshal([]byte(photos), &r.Photos)
	r.RefundID, r.CreatedAt, r.Events = refund.Int64, time.UnixMilli(created).UTC(), []Event{}
	return r, nil
}

// Get returns request id of shopID with its log; memberID other than 0
// limits it to that buyer's requests.
func (s *Service) Get(ctx context.Context, shopID, id, memberID int64) (Request, error) {
	r, err := scan(s.db.QueryRow(ctx, `SELECT `+columns+` FROM aftersales WHERE id = ? AND shop_id = ? AND (? = 0 OR member_id = ?)`,
		id, shopID, memberID, memberID))
	if db.IsNoRows(err) {
		return Request{}, errNotFound
	}
	if err != nil {
		return Request{}, errs.Wrap("after-sales", err)
	}
	rows, err := s.db.Query(ctx, `SELECT actor, from_status, to_status, note, created_at FROM aftersale_events
		WHERE aftersale_id = ? AND shop_id = ? ORDER BY id`, id, shopID)
	if err != nil {
		return Request{}, errs.Wrap("after-sales log", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&e.Actor, &e.From, &e.To, &e.Note, &at); err != nil {
			return Request{}, errs.Wrap("after-sales log", err)
		}
		e.CreatedAt = time.UnixMilli(at).UTC()
		r.Events = append(r.Events, e)
	}
	return r, errs.Wrap("after-sales log", rows.Err())
}

// List returns a shop's requests, newest first: one buyer's (memberID) or
// all, optionally by status, with ids below after (0 = from the newest);
// up to limit+1 of them, so the caller knows whether a next page exists.
func (s *Service) List(ctx context.Context, shopID, memberID int64, status string, after int64, limit int) ([]Request, error) {
	if after <= 0 {
		after = 1 << 62
	}
	rows, err := s.db.Query(ctx, `SELECT `+columns+` FROM aftersales WHERE shop_id = ? AND (? = 0 OR member_id = ?)
		AND (? = '' OR status = ?) AND id < ? ORDER BY id DESC LIMIT ?`, shopID, memberID, memberID, status, status, after, limit+1)
	if err != nil {
		return nil, errs.Wrap("after-sales", err)
	}
	defer rows.Close()
	out := []Request{}
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, errs.Wrap("after-sales", err)
		}
		out = append(out, r)
	}
	return out, errs.Wrap("after-sales", rows.Err())
}
