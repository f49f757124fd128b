package messaging

import (
	"context"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

var errMessageNotFound = errs.E(errs.NotFound, "message_not_found", "no such message")

// Inbox lists the buyer's inbox, newest first.
func (s *Service) Inbox(ctx context.Context, shopID, memberID, after int64, limit int) ([]BuyerMessage, error) {
	if after == 0 {
		after = 1 << 62
	}
	list, err := db.All(ctx, s.db, scanBuyerMessage, `SELECT id, kind, ref_id, title, body, page, read_at, COALESCE(sent_at, created_at)
		FROM messages WHERE shop_id = ? AND member_id = ? AND channel = 'inbox' AND state = 'sent' AND id < ?
		ORDER BY id DESC LIMIT ?`, shopID, memberID, after, limit+1)
	return list, errs.Wrap("inbox", err)
}

func scanBuyerMessage(r db.Scanner) (BuyerMessage, error) {
	var m BuyerMessage
	var readAt *int64
	var at int64
	err := r.Scan(&m.ID, &m.Kind, &m.OrderID, &m.Title, &m.Body, &m.Page, &readAt, &at)
	m.Read, m.CreatedAt = readAt != nil, time.UnixMilli(at).UTC()
	if !kindSpecs[m.Kind].order {
		m.OrderID = 0 // a notice's ref_id is its own key, not an order
	}
	return m, err
}

// Unread counts the buyer's unread inbox messages.
func (s *Service) Unread(ctx context.Context, shopID, memberID int64) (Unread, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM messages WHERE shop_id = ? AND member_id = ? AND channel = 'inbox'
		AND state = 'sent' AND read_at IS NULL`, shopID, memberID).Scan(&n)
	return Unread{Unread: n}, errs.Wrap("unread", err)
}

// MarkRead marks one inbox message read (again is a no-op).
func (s *Service) MarkRead(ctx context.Context, shopID, memberID, id int64) (Unread, error) {
	res, err := s.db.Exec(ctx, `UPDATE messages SET read_at = COALESCE(read_at, ?) WHERE shop_id = ? AND member_id = ? AND id = ?
		AND channel = 'inbox' AND state = 'sent'`, s.nowMs(), shopID, memberID, id)
	if err != nil {
		return Unread{}, errs.Wrap("mark read", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Unread{}, errMessageNotFound
	}
	return s.Unread(ctx, shopID, memberID)
}

// MarkAllRead marks the buyer's whole inbox read.
func (s *Service) MarkAllRead(ctx context.Context, shopID, memberID int64) (Unread, error) {
	_, err := s.db.Exec(ctx, `UPDATE messages SET read_at = ? WHERE shop_id = ? AND member_id = ? AND channel = 'inbox'
		AND state = 'sent' AND read_at IS NULL`, s.nowMs(), shopID, memberID)
	if err != nil {
		return Unread{}, errs.Wrap("mark all read", err)
	}
	return s.Unread(ctx, shopID, memberID)
}
