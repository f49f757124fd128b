package aftersale

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
)

// Time limits, as the big malls run them (Taobao, Youzan): a seller who
// does not answer a request within 48 hours has approved it; a buyer who
// does not ship an approved return back within return_ship_days (default
// 7) has given it up (closed); a seller who does not confirm receipt of a
// return within return_receive_days (default 10) of the buyer shipping it
// has received it, and the refund goes out; a buyer who does not confirm
// a replacement within auto_confirm_days (default 10) has received it. A
// shipped order is confirmed received auto_confirm_days after it shipped,
// unless it has an open after-sales request (the timer waits for it, as on
// Taobao). Deadlines are fixed when a step starts and shown as due_at.
const (
	ApproveWithin = 48 * time.Hour

	// DueKind is the job that applies a request's time limit.
	DueKind = "aftersale.due"
	// AutoConfirmKind is the periodic sweep that confirms receipt of
	// orders shipped long enough ago.
	AutoConfirmKind = "aftersale.auto_confirm"

	forever = 1 << 30
)

type dueJob struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
}

// schedule sets request id's deadline for status and queues the job that
// acts on it, inside tx.
func schedule(ctx context.Context, tx *db.Tx, shopID, id int64, status string, at time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE aftersales SET due_at = ? WHERE id = ? AND shop_id = ?`, at.UnixMilli(), id, shopID); err != nil {
		return err
	}
	_, err := jobs.Enqueue(ctx, tx, DueKind, dueJob{ID: id, Status: status}, jobs.Options{RunAt: at, ShopID: shopID,
		UniqueKey: fmt.Sprintf("aftersale-due:%d:%s", id, status), MaxAttempts: forever})
	return err
}

// dueAction is what happens by itself when a request in status runs out of time.
func dueAction(status string) string {
	switch status {
	case Requested:
		return "approve"
	case Approved:
		return "close"
	case BuyerShipped:
		return "receive"
	case ExchangeShipped:
		return "complete"
	}
	return ""
}

// RegisterJobs sets the handlers of the time limits and the auto-confirm sweep.
func (s *Service) RegisterJobs(q *jobs.Queue, log *slog.Logger) {
	q.Handle(DueKind, func(ctx context.Context, j jobs.Job) error { return s.due(ctx, j, log) })
	q.Every(AutoConfirmKind, 10*time.Minute, func(ctx context.Context, _ jobs.Job) error {
		_, err := s.AutoConfirmOrders(ctx)
		return err
	})
}

// due applies a request's time limit, if the request is still at the step
// the job was queued for and its deadline has passed. A step the request's
// state refuses (money left to refund is short, stock is out) is logged and
// left to staff; an outage is retried.
func (s *Service) due(ctx context.Context, j jobs.Job, log *slog.Logger) error {
	var p dueJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return err
	}
	r, err := s.Get(ctx, j.ShopID, p.ID, 0)
	if errs.Is(err, "aftersale_not_found") {
		return nil
	}
	if err != nil {
		return err
	}
	if r.Status != p.Status || r.DueAt == nil {
		return nil
	}
	if wait := r.DueAt.Sub(s.now()); wait > 0 {
		return jobs.RetryLater{After: wait}
	}
	switch p.Status {
	case Requested:
		err = s.Approve(ctx, j.ShopID, p.ID, order.System)
	case Approved:
		err = s.close(ctx, j.ShopID, p.ID)
	case BuyerShipped:
		err = s.Receive(ctx, j.ShopID, p.ID, order.System)
	case ExchangeShipped:
		err = s.Confirm(ctx, j.ShopID, 0, p.ID, order.System)
	}
	if err == nil || errs.Is(err, "aftersale_not_open") || errs.Is(err, "aftersale_wrong_status") {
		return nil
	}
	if e := errs.As(err); e.Kind != errs.Internal && e.Kind != errs.Unavailable {
		log.Warn("after-sales time limit: the automatic step was refused; left to staff",
			"shop", j.ShopID, "aftersale", p.ID, "status", p.Status, "err", err.Error())
		return nil
	}
	return jobs.RetryLater{After: min(time.Duration(j.Attempts)*time.Minute, 30*time.Minute)}
}

// AutoConfirmOrders confirms receipt of shipped orders whose shop's
// auto_confirm_days have passed since shipping and that have no open
// after-sales request, through the same order.Service.Complete a buyer's
// confirmation uses (completed_at starts the commission settle days). It
// reports how many it completed.
func (s *Service) AutoConfirmOrders(ctx context.Context) (int, error) {
	type due struct{ shopID, orderID int64 }
	rows, err := s.db.Query(ctx, `SELECT o.shop_id, o.id FROM orders o LEFT JOIN aftersale_settings st ON st.shop_id = o.shop_id
		WHERE o.status = 'shipped' AND o.shipped_at <= ? - COALESCE(st.auto_confirm_days, 10) * 86400000
		AND NOT EXISTS (SELECT 1 FROM aftersales a WHERE a.order_id = o.id AND (a.status IN ('requested', 'buyer_shipped', 'received', 'exchange_shipped')
			OR (a.status = 'approved' AND a.kind <> 'refund_only')))
		ORDER BY o.shipped_at LIMIT 500`, s.now().UnixMilli())
	if err != nil {
		return 0, errs.Wrap("auto-confirm", err)
	}
	var list []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.shopID, &d.orderID); err != nil {
			rows.Close()
			return 0, errs.Wrap("auto-confirm", err)
		}
		list = append(list, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, errs.Wrap("auto-confirm", err)
	}
	n := 0
	for _, d := range list {
		err := s.orders.Complete(ctx, d.shopID, d.orderID, 0, order.System)
		switch {
		case err == nil:
			n++
		case errs.Is(err, "illegal_transition"), errs.Is(err, "refund_in_progress"), errs.Is(err, "order_not_found"):
			// confirmed meanwhile, or its whole payment is being refunded
		default:
			return n, err
		}
	}
	return n, nil
}

// Settings are a shop's after-sales time limits.
type Settings struct {
	AutoConfirmDays   int64 `json:"auto_confirm_days" doc:"a shipped order is confirmed received, and a shipped replacement completed, this many days after shipping (1 to 30, default 10)"`
	ReturnShipDays    int64 `json:"return_ship_days" doc:"an approved return or exchange the buyer does not ship back within this many days is closed (1 to 30, default 7)"`
	ReturnReceiveDays int64 `json:"return_receive_days" doc:"goods shipped back and not confirmed by staff within this many days are received automatically, and a return refunded (1 to 30, default 10)"`
}

// DefaultSettings are the limits of a shop that set none.
var DefaultSettings = Settings{AutoConfirmDays: 10, ReturnShipDays: 7, ReturnReceiveDays: 10}

// Settings returns shopID's time limits.
func (s *Service) Settings(ctx context.Context, shopID int64) (Settings, error) {
	st := DefaultSettings
	err := s.db.QueryRow(ctx, `SELECT auto_confirm_days, return_ship_days, return_receive_days FROM aftersale_settings WHERE shop_id = ?`,
		shopID).Scan(&st.AutoConfirmDays, &st.ReturnShipDays, &st.ReturnReceiveDays)
	if db.IsNoRows(err) {
		return DefaultSettings, nil
	}
	return st, errs.Wrap("after-sales settings", err)
}

// SetSettings replaces shopID's time limits (new deadlines use them;
// those already running keep theirs).
func (s *Service) SetSettings(ctx context.Context, shopID int64, in Settings) (Settings, error) {
	var v errs.Validator
	for _, f := range []struct {
		name string
		n    int64
	}{{"auto_confirm_days", in.AutoConfirmDays}, {"return_ship_days", in.ReturnShipDays}, {"return_receive_days", in.ReturnReceiveDays}} {
		v.Check(f.n >= 1 && f.n <= 30, f.name, "must be 1 to 30 days")
	}
	if err := v.Err(); err != nil {
		return Settings{}, err
	}
	_, err := s.db.Exec(ctx, `INSERT INTO aftersale_settings (shop_id, auto_confirm_days, return_ship_days, return_receive_days, updated_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (shop_id) DO UPDATE SET auto_confirm_days = excluded.auto_confirm_days,
		return_ship_days = excluded.return_ship_days, return_receive_days = excluded.return_receive_days, updated_at = excluded.updated_at`,
		shopID, in.AutoConfirmDays, in.ReturnShipDays, in.ReturnReceiveDays, db.Now())
	if err != nil {
		return Settings{}, errs.Wrap("after-sales settings", err)
	}
	return s.Settings(ctx, shopID)
}
