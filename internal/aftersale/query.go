package aftersale

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

const columns = `id, order_id, member_id, amount, reason, photos, status, reject_reason, refund_id, created_at,
	kind, whole_order, reason_code, return_carrier, return_tracking_no, exchange_carrier, exchange_tracking_no, due_at`

func scan(row interface{ Scan(...any) error }) (Request, error) {
	var r Request
	var photos string
	var refund, due sql.NullInt64
	var created int64
	if err := row.Scan(&r.ID, &r.OrderID, &r.MemberID, &r.Amount, &r.Reason, &photos, &r.Status, &r.RejectReason, &refund, &created,
		&r.Type, &r.wholeOrder, &r.ReasonCode, &r.ReturnCarrier, &r.ReturnTrackingNo, &r.ExchangeCarrier, &r.ExchangeTrackingNo, &due); err != nil {
		return Request{}, err
	}
	_ = json.Unmarshal([]byte(photos), &r.Photos)
	if r.Photos == nil {
		r.Photos = []string{}
	}
	r.RefundID, r.CreatedAt, r.Events, r.Lines = refund.Int64, time.UnixMilli(created).UTC(), []Event{}, []Line{}
	if due.Valid {
		at := time.UnixMilli(due.Int64).UTC()
		r.DueAt, r.DueAction = &at, dueAction(r.Status)
	}
	return r, nil
}

// Get returns request id of shopID with its lines and log; memberID other
// than 0 limits it to that buyer's requests.
func (s *Service) Get(ctx context.Context, shopID, id, memberID int64) (Request, error) {
	r, err := scan(s.db.QueryRow(ctx, `SELECT `+columns+` FROM aftersales WHERE id = ? AND shop_id = ? AND (? = 0 OR member_id = ?)`,
		id, shopID, memberID, memberID))
	if db.IsNoRows(err) {
		return Request{}, errNotFound
	}
	if err != nil {
		return Request{}, errs.Wrap("after-sales", err)
	}
	if err := s.lines(ctx, shopID, []*Request{&r}); err != nil {
		return Request{}, err
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

// lines fills the lines of line requests, with each order line's title
// and specs.
func (s *Service) lines(ctx context.Context, shopID int64, reqs []*Request) error {
	byID := map[int64]*Request{}
	var ids []any
	for _, r := range reqs {
		if !r.wholeOrder {
			byID[r.ID] = r
			ids = append(ids, r.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := s.db.Query(ctx, `SELECT al.aftersale_id, al.order_line_id, al.sku_id, ol.title, ol.spec_values, al.quantity, al.amount
		FROM aftersale_lines al JOIN order_lines ol ON ol.id = al.order_line_id
		WHERE al.shop_id = ? AND al.aftersale_id IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")+`) ORDER BY al.id`, append([]any{shopID}, ids...)...)
	if err != nil {
		return errs.Wrap("after-sales lines", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var l Line
		var specs string
		if err := rows.Scan(&id, &l.OrderLineID, &l.SKUID, &l.Title, &specs, &l.Quantity, &l.Amount); err != nil {
			return errs.Wrap("after-sales lines", err)
		}
		_ = json.Unmarshal([]byte(specs), &l.SpecValues)
		if l.SpecValues == nil {
			l.SpecValues = []string{}
		}
		byID[id].Lines = append(byID[id].Lines, l)
	}
	return errs.Wrap("after-sales lines", rows.Err())
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
	out := []Request{}
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			rows.Close()
			return nil, errs.Wrap("after-sales", err)
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap("after-sales", err)
	}
	ptrs := make([]*Request, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	return out, s.lines(ctx, shopID, ptrs)
}
