package privacy

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Request is a member's export or deletion request as the member and staff
// see it.
type Request struct {
	ID          int64      `json:"id"`
	MemberID    int64      `json:"member_id"`
	Kind        string     `json:"kind" enum:"export,deletion"`
	Status      string     `json:"status" enum:"waiting,done" doc:"waiting: a deletion held until what blocks it ends"`
	BlockedBy   []string   `json:"blocked_by" doc:"open orders, after_sales, refunds, payouts: what must finish first"`
	RequestedAt time.Time  `json:"requested_at"`
	DueAt       time.Time  `json:"due_at" doc:"the end of the 15th working day after the request (Asia/Shanghai)"`
	DoneAt      *time.Time `json:"done_at"`
	Overdue     bool       `json:"overdue" doc:"still waiting after its deadline"`
}

// MyRequest is a request as its member sees it.
type MyRequest struct {
	ID          int64      `json:"id"`
	Kind        string     `json:"kind" enum:"export,deletion"`
	Status      string     `json:"status" enum:"waiting,done" doc:"waiting: a deletion held until what blocks it ends"`
	BlockedBy   []string   `json:"blocked_by" doc:"open orders, after_sales, refunds, payouts: what must finish first"`
	RequestedAt time.Time  `json:"requested_at"`
	DoneAt      *time.Time `json:"done_at"`
}

func (q Request) mine() MyRequest {
	return MyRequest{ID: q.ID, Kind: q.Kind, Status: q.Status, BlockedBy: q.BlockedBy, RequestedAt: q.RequestedAt, DoneAt: q.DoneAt}
}

// blockerChecks find what must end before an account can go: each counts
// the member's open things of one kind.
var blockerChecks = []struct{ name, query string }{
	{"orders", `SELECT COUNT(*) FROM orders WHERE shop_id = ? AND member_id = ? AND status IN ('pending_payment','paid','shipped')`},
	{"after_sales", `SELECT COUNT(*) FROM aftersales WHERE shop_id = ? AND member_id = ?
		AND status NOT IN ('rejected','cancelled','refunded','completed','closed')`},
	{"refunds", `SELECT COUNT(*) FROM refunds r JOIN orders o ON o.id = r.order_id AND o.shop_id = r.shop_id
		WHERE r.shop_id = ? AND o.member_id = ? AND r.status IN ('pending','processing','abnormal')`},
	{"payouts", `SELECT COUNT(*) FROM withdrawals w JOIN promoters p ON p.id = w.promoter_id AND p.shop_id = w.shop_id
		WHERE w.shop_id = ? AND p.member_id = ? AND w.status IN ('requested','approved')`},
}

func blockers(ctx context.Context, q db.Querier, shopID, memberID int64) ([]string, error) {
	var out []string
	for _, c := range blockerChecks {
		var n int
		if err := q.QueryRow(ctx, c.query, shopID, memberID).Scan(&n); err != nil {
			return nil, errs.Wrap("check "+c.name, err)
		}
		if n > 0 {
			out = append(out, c.name)
		}
	}
	return out, nil
}

// RequestDeletion deletes the member's account at once, or, while orders,
// after-sales, refunds or payouts of theirs are open, records the request
// to be carried out when they end (asking again returns the same request).
// Their sessions end when the account goes.
func (s *Service) RequestDeletion(ctx context.Context, shopID, memberID int64) (MyRequest, error) {
	var id int64
	done := false
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := memberOf(ctx, tx, shopID, memberID); err != nil {
			return err
		}
		now := s.now()
		block, err := blockers(ctx, tx, shopID, memberID)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `SELECT id FROM privacy_requests WHERE shop_id = ? AND member_id = ? AND kind = 'deletion' AND status = 'waiting'`,
			shopID, memberID).Scan(&id)
		if db.IsNoRows(err) {
			err = tx.QueryRow(ctx, `INSERT INTO privacy_requests (shop_id, member_id, kind, status, blocked_by, requested_at, due_at)
				VALUES (?, ?, 'deletion', 'waiting', ?, ?, ?) RETURNING id`, shopID, memberID, strings.Join(block, ","),
				now.UnixMilli(), s.dueAt(now).UnixMilli()).Scan(&id)
		}
		if err != nil {
			return err
		}
		if len(block) > 0 {
			_, err := tx.Exec(ctx, `UPDATE privacy_requests SET blocked_by = ? WHERE id = ?`, strings.Join(block, ","), id)
			return err
		}
		done = true
		return s.erase(ctx, tx, shopID, memberID, id, now)
	})
	if err != nil {
		return MyRequest{}, errs.Wrap("request deletion", err)
	}
	if done {
		if _, err := s.sessions.RevokeSessions(ctx, shopID, memberID); err != nil {
			return MyRequest{}, err
		}
	}
	q, err := s.request(ctx, shopID, id)
	return q.mine(), err
}

// CarryOutWaiting deletes the accounts whose deletion was waiting and whose
// blockers have ended (the hourly job), and returns how many it deleted.
func (s *Service) CarryOutWaiting(ctx context.Context) (int, error) {
	waiting, err := db.All(ctx, s.db, func(r db.Scanner) ([3]int64, error) {
		var w [3]int64
		return w, r.Scan(&w[0], &w[1], &w[2])
	}, `SELECT id, shop_id, member_id FROM privacy_requests WHERE kind = 'deletion' AND status = 'waiting' ORDER BY id LIMIT 500`)
	if err != nil {
		return 0, errs.Wrap("waiting deletions", err)
	}
	n := 0
	for _, w := range waiting {
		id, shopID, memberID := w[0], w[1], w[2]
		done := false
		err := s.db.InTx(ctx, func(tx *db.Tx) error {
			block, err := blockers(ctx, tx, shopID, memberID)
			if err != nil || len(block) > 0 {
				if err == nil {
					_, err = tx.Exec(ctx, `UPDATE privacy_requests SET blocked_by = ? WHERE id = ? AND status = 'waiting'`, strings.Join(block, ","), id)
				}
				return err
			}
			done = true
			return s.erase(ctx, tx, shopID, memberID, id, s.now())
		})
		if err != nil {
			return n, errs.Wrap("carry out deletion", err)
		}
		if done {
			n++
			if _, err := s.sessions.RevokeSessions(ctx, shopID, memberID); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// erasures delete what only identifies or profiles the member: addresses,
// cart, tags and staff notes, what they viewed, analytics events, their
// inbox, message acceptances, SMS codes and opt-outs, the virtual-payment
// session key.
var erasures = []string{
	`DELETE FROM addresses WHERE shop_id = ? AND member_id = ?`,
	`DELETE FROM cart_items WHERE shop_id = ? AND member_id = ?`,
	`DELETE FROM member_tag_links WHERE shop_id = ? AND member_id = ?`,
	`DELETE FROM member_notes WHERE shop_id = ? AND member_id = ?`,
	`DELETE FROM recent_views WHERE shop_id = ? AND member_id = ?`,
	`DELETE FROM analytics_events WHERE shop_id = ? AND member_id = ?`,
	`DELETE FROM msg_acceptance_log WHERE shop_id = ? AND member_id = ?`,
	`DELETE FROM msg_acceptances WHERE shop_id = ? AND member_id = ?`,
	`DELETE FROM message_attempts WHERE message_id IN (SELECT id FROM messages WHERE shop_id = ? AND member_id = ?)`,
	`DELETE FROM messages WHERE shop_id = ? AND member_id = ?`,
	`DELETE FROM sms_codes WHERE shop_id = ? AND member_id = ?`,
	`DELETE FROM sms_optouts WHERE shop_id = ? AND member_id = ?`,
	`DELETE FROM xpay_session_keys WHERE shop_id = ? AND member_id = ?`,
	`UPDATE consents SET addr = '' WHERE shop_id = ? AND member_id = ?`,
	// Invoices stay for the accounting retention period: a company's title
	// and tax id are the company's; a person's title and everyone's email go.
	`UPDATE order_invoices SET email = '', title = CASE WHEN title_type = 'company' THEN title ELSE '已注销用户' END
		WHERE shop_id = ? AND order_id IN (SELECT id FROM orders WHERE shop_id = ? AND member_id = ?)`,
}

// erase carries out deletion request id in tx: the member row emptied (it
// stays: orders and ledgers point at it), the erasures, orders' receivers
// anonymised (kept for accounting), paid content ended.
func (s *Service) erase(ctx context.Context, tx *db.Tx, shopID, memberID, id int64, now time.Time) error {
	res, err := tx.Exec(ctx, `UPDATE members SET openid = 'deleted:' || CAST(id AS TEXT), unionid = '', phone = '', nickname = '已注销用户',
		birthday = '', source_ref = '', deleted_at = ?, updated_at = ? WHERE id = ? AND shop_id = ? AND deleted_at IS NULL`,
		now.UnixMilli(), now.UnixMilli(), memberID, shopID)
	if err := db.ExpectOne(res, err); err != nil {
		return errs.E(errs.Conflict, "account_deleted", "this account was deleted")
	}
	for _, q := range erasures {
		args := []any{shopID, memberID}
		if strings.Count(q, "?") == 3 {
			args = []any{shopID, shopID, memberID}
		}
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return errs.Wrap("erase "+q[:30], err)
		}
	}
	if err := anonymiseOrders(ctx, tx, shopID, memberID); err != nil {
		return err
	}
	if err := endEntitlements(ctx, tx, shopID, memberID, now); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE privacy_requests SET status = 'done', blocked_by = '', done_at = ? WHERE id = ?`, now.UnixMilli(), id)
	return err
}

// anonymiseOrders keeps each order's region (for tax and statistics) and
// drops the receiver's name, phone, street and postal code.
func anonymiseOrders(ctx context.Context, tx *db.Tx, shopID, memberID int64) error {
	type snap struct {
		id   int64
		addr string
	}
	orders, err := db.All(ctx, tx, func(r db.Scanner) (snap, error) {
		var o snap
		return o, r.Scan(&o.id, &o.addr)
	}, `SELECT id, address FROM orders WHERE shop_id = ? AND member_id = ?`, shopID, memberID)
	if err != nil {
		return err
	}
	for _, o := range orders {
		var a map[string]any
		if json.Unmarshal([]byte(o.addr), &a) != nil {
			a = map[string]any{}
		}
		for _, k := range []string{"phone", "detail", "postal_code"} {
			if _, ok := a[k]; ok {
				a[k] = ""
			}
		}
		a["name"] = "已注销用户"
		b, _ := json.Marshal(a)
		if _, err := tx.Exec(ctx, `UPDATE orders SET address = ? WHERE id = ? AND shop_id = ?`, string(b), o.id, shopID); err != nil {
			return err
		}
	}
	return nil
}

// endEntitlements revokes the member's paid content, each with its log row.
func endEntitlements(ctx context.Context, tx *db.Tx, shopID, memberID int64, now time.Time) error {
	if _, err := tx.Exec(ctx, `INSERT INTO content_entitlement_events (shop_id, entitlement_id, member_id, kind, actor, reason, created_at)
		SELECT shop_id, id, member_id, 'revoke', 'privacy', 'account_deleted', ? FROM content_entitlements
		WHERE shop_id = ? AND member_id = ? AND revoked_at IS NULL`, now.UnixMilli(), shopID, memberID); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE content_entitlements SET revoked_at = ?, revoke_reason = 'account_deleted'
		WHERE shop_id = ? AND member_id = ? AND revoked_at IS NULL`, now.UnixMilli(), shopID, memberID)
	return err
}

const requestColumns = `id, member_id, kind, status, blocked_by, requested_at, due_at, done_at`

func (s *Service) scanRequest(r db.Scanner) (Request, error) {
	var q Request
	var blocked string
	var req, due int64
	var done *int64
	err := r.Scan(&q.ID, &q.MemberID, &q.Kind, &q.Status, &blocked, &req, &due, &done)
	q.RequestedAt, q.DueAt = time.UnixMilli(req).UTC(), time.UnixMilli(due).UTC()
	q.BlockedBy = []string{}
	if blocked != "" {
		q.BlockedBy = strings.Split(blocked, ",")
	}
	if done != nil {
		t := time.UnixMilli(*done).UTC()
		q.DoneAt = &t
	}
	q.Overdue = q.Status == "waiting" && s.now().After(q.DueAt)
	return q, err
}

func (s *Service) request(ctx context.Context, shopID, id int64) (Request, error) {
	q, err := s.scanRequest(s.db.QueryRow(ctx, `SELECT `+requestColumns+` FROM privacy_requests WHERE id = ? AND shop_id = ?`, id, shopID))
	return q, errs.Wrap("read request", err)
}

// Requests lists the shop's requests, newest first: status "" for all,
// "waiting" for the queue staff must clear.
func (s *Service) Requests(ctx context.Context, shopID int64, status string, before int64, limit int) ([]Request, error) {
	q := `SELECT ` + requestColumns + ` FROM privacy_requests WHERE shop_id = ? AND id < ?`
	args := []any{shopID, before}
	if status != "" {
		q, args = q+` AND status = ?`, append(args, status)
	}
	out, err := db.All(ctx, s.db, s.scanRequest, q+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	return out, errs.Wrap("list requests", err)
}

// MyRequests lists the member's own requests, newest first (at most 50).
func (s *Service) MyRequests(ctx context.Context, shopID, memberID int64) ([]MyRequest, error) {
	rows, err := db.All(ctx, s.db, s.scanRequest, `SELECT `+requestColumns+` FROM privacy_requests WHERE shop_id = ? AND member_id = ?
		ORDER BY id DESC LIMIT 50`, shopID, memberID)
	out := make([]MyRequest, len(rows))
	for i, q := range rows {
		out[i] = q.mine()
	}
	return out, errs.Wrap("list my requests", err)
}
