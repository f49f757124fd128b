// Package tracking follows the parcels of shipped orders at a tracking
// provider (快递100-style: a subscription that pushes each new event, and a
// query for when pushes stop coming) and shows buyers and staff the route.
// Shipping an express order records its waybill and enqueues the
// subscription in the ship transaction (order's OnShipped hook); pushes
// are verified with a per-shop salt and applied only when they add to what
// is known, so repeated and late pushes change nothing.
package tracking

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/carriers"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
	"github.com/kaidian/kaidian/internal/platform/kuaidi100"
)

// Job kinds.
const (
	SubscribeKind = "tracking.subscribe"
	RefreshKind   = "tracking.refresh"
)

// Provider is a tracking service (*kuaidi100.Client).
type Provider interface {
	Query(ctx context.Context, w kuaidi100.Waybill) (kuaidi100.Trace, error)
	Subscribe(ctx context.Context, w kuaidi100.Waybill, callbackURL, salt string) error
}

// Config is how the service reaches the provider and is reached by it.
type Config struct {
	PublicURL string // this server's base URL, for the push callback
	Secret    []byte // derives each shop's push salt
	// QuietAfter is how long without a push before a parcel still on its
	// way is queried instead (default 6 h).
	QuietAfter time.Duration
}

// Service follows parcels. A nil provider records waybills only.
type Service struct {
	db       *db.DB
	provider Provider
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
}

// NewService returns the service.
func NewService(d *db.DB, p Provider, cfg Config, log *slog.Logger) *Service {
	if cfg.QuietAfter == 0 {
		cfg.QuietAfter = 6 * time.Hour
	}
	return &Service{db: d, provider: p, cfg: cfg, log: log, now: time.Now}
}

// Enabled reports whether a provider is configured.
func (s *Service) Enabled() bool { return s.provider != nil }

// Event is one step of a parcel's route.
type Event struct {
	Time    time.Time `json:"time"`
	Context string    `json:"context" doc:"the carrier's description of the step"`
}

// Parcel is a shipped parcel and its route as last known: the same for
// buyers and staff (nothing in it is staff-only).
type Parcel struct {
	Carrier     string     `json:"carrier" doc:"as staff entered it"`
	CarrierName string     `json:"carrier_name" doc:"the carrier's name when kaidian knows it"`
	TrackingNo  string     `json:"tracking_no"`
	State       string     `json:"state" enum:"pending,in_transit,picked_up,problem,signed,returned,delivering,refused" doc:"pending until the first news"`
	Route       []Event    `json:"route" doc:"the parcel's route (物流轨迹), newest first"`
	CheckedAt   *time.Time `json:"checked_at" doc:"when the route was last pushed or queried"`
}

// OrderParcels is an order's parcels.
type OrderParcels struct {
	Parcels  []Parcel `json:"parcels"`
	Tracking bool     `json:"tracking" doc:"whether routes are followed (a tracking provider is configured)"`
}

var stateNames = map[int]string{-1: "pending", kuaidi100.InTransit: "in_transit", kuaidi100.PickedUp: "picked_up",
	kuaidi100.Problem: "problem", kuaidi100.Signed: "signed", kuaidi100.Returned: "returned",
	kuaidi100.Delivering: "delivering", kuaidi100.Refused: "refused"}

func stateName(st int) string {
	if n, ok := stateNames[st]; ok {
		return n
	}
	return "in_transit" // a state 快递100 added later: still on its way
}

type subscribeJob struct {
	TraceID int64 `json:"trace_id"`
}

// Shipped is the order.OnShipped hook: an express shipment's waybill is
// recorded and its subscription enqueued, in the ship transaction.
func (s *Service) Shipped(ctx context.Context, tx *db.Tx, sh order.Shipment) error {
	for _, p := range sh.Packages {
		if err := s.follow(ctx, tx, sh.ShopID, sh.OrderID, p.Carrier, p.TrackingNo); err != nil {
			return err
		}
	}
	return nil
}

// follow records one package's waybill and enqueues its subscription.
func (s *Service) follow(ctx context.Context, tx *db.Tx, shopID, orderID int64, carrier, trackingNo string) error {
	company := ""
	if c, ok := carriers.Lookup(carrier); ok {
		company = c.Kuaidi100
	}
	now := s.now().UnixMilli()
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO parcel_traces (shop_id, order_id, carrier, company, tracking_no, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, shopID, orderID, carrier, company, trackingNo, now, now).Scan(&id)
	if err != nil {
		return errs.Wrap("record parcel", err)
	}
	if s.provider == nil || company == "" {
		return nil // recorded for the order; nothing to follow it with
	}
	_, err = jobs.Enqueue(ctx, tx, SubscribeKind, subscribeJob{TraceID: id}, jobs.Options{ShopID: shopID,
		UniqueKey: "tracking-subscribe:" + strconv.FormatInt(id, 10), MaxAttempts: 20})
	return err
}

// RegisterJobs sets the subscription job and the hourly query of parcels
// whose pushes have gone quiet.
func (s *Service) RegisterJobs(q *jobs.Queue) {
	q.Handle(SubscribeKind, s.subscribe)
	q.Every(RefreshKind, time.Hour, s.refreshQuiet)
}

// CallbackPath is where the provider pushes shop's parcels.
func CallbackPath(shopID int64) string { return fmt.Sprintf("/webhooks/kuaidi100/%d", shopID) }

// salt is shop's push salt: pushes for one shop cannot be replayed to
// another.
func (s *Service) salt(shopID int64) string {
	m := hmac.New(sha256.New, s.cfg.Secret)
	fmt.Fprintf(m, "kuaidi100-push:%d", shopID)
	return hex.EncodeToString(m.Sum(nil))[:32]
}

func (s *Service) subscribe(ctx context.Context, j jobs.Job) error {
	if s.provider == nil {
		return nil
	}
	var p subscribeJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return err
	}
	w, err := s.waybill(ctx, j.ShopID, p.TraceID)
	if err != nil {
		return err
	}
	if err := s.provider.Subscribe(ctx, w, s.cfg.PublicURL+CallbackPath(j.ShopID), s.salt(j.ShopID)); err != nil {
		return err // retried with the queue's backoff
	}
	_, err = s.db.Exec(ctx, `UPDATE parcel_traces SET subscribed_at = ?, updated_at = ? WHERE id = ? AND shop_id = ?`,
		s.now().UnixMilli(), s.now().UnixMilli(), p.TraceID, j.ShopID)
	return err
}

// waybill reads a trace's waybill; SF wants the receiver's phone with it.
func (s *Service) waybill(ctx context.Context, shopID, traceID int64) (kuaidi100.Waybill, error) {
	var w kuaidi100.Waybill
	var addr string
	err := s.db.QueryRow(ctx, `SELECT t.company, t.tracking_no, o.address FROM parcel_traces t JOIN orders o ON o.id = t.order_id
		WHERE t.id = ? AND t.shop_id = ? AND o.shop_id = ?`, traceID, shopID, shopID).Scan(&w.Company, &w.Number, &addr)
	if err != nil {
		return w, errs.Wrap("parcel", err)
	}
	if w.Company == "shunfeng" {
		var a struct {
			Phone string `json:"phone"`
		}
		_ = json.Unmarshal([]byte(addr), &a)
		w.Phone = a.Phone
	}
	return w, nil
}

var errPushSignature = errs.E(errs.Forbidden, "push_signature_invalid", "the push's sign does not verify")

// Pushed applies a provider's push for shopID. A push that knows no more
// than what is stored (a repeat, or one overtaken by a later push) changes
// nothing.
func (s *Service) Pushed(ctx context.Context, shopID int64, form url.Values) error {
	p, err := kuaidi100.ParsePush(form, s.salt(shopID))
	if err == kuaidi100.ErrBadSignature {
		return errPushSignature
	}
	if err != nil {
		return errs.E(errs.Invalid, "push_malformed", err.Error())
	}
	return s.apply(ctx, shopID, p.Company, p.Number, p.Trace)
}

// apply stores trace for shopID's parcels with that waybill when it has at
// least as many events as what is stored.
func (s *Service) apply(ctx context.Context, shopID int64, company, number string, t kuaidi100.Trace) error {
	events := make([]Event, 0, len(t.Events))
	for _, e := range t.Events {
		events = append(events, Event{Time: e.Time, Context: e.Context})
	}
	body, _ := json.Marshal(events)
	now := s.now().UnixMilli()
	_, err := s.db.Exec(ctx, `UPDATE parcel_traces SET state = ?, events = ?, event_count = ?, checked_at = ?, updated_at = ?
		WHERE shop_id = ? AND company = ? AND tracking_no = ? AND event_count <= ?`,
		t.State, string(body), len(events), now, now, shopID, company, number, len(events))
	return errs.Wrap("apply parcel route", err)
}

// refreshQuiet queries parcels still on their way that have had no news
// for QuietAfter: a lost subscription or push must not freeze a route.
func (s *Service) refreshQuiet(ctx context.Context, _ jobs.Job) error {
	if s.provider == nil {
		return nil
	}
	cutoff := s.now().Add(-s.cfg.QuietAfter).UnixMilli()
	rows, err := s.db.Query(ctx, `SELECT id, shop_id FROM parcel_traces WHERE company <> '' AND state NOT IN (?, ?, ?)
		AND COALESCE(checked_at, created_at) < ? ORDER BY COALESCE(checked_at, created_at) LIMIT 200`,
		kuaidi100.Signed, kuaidi100.Returned, kuaidi100.Refused, cutoff)
	if err != nil {
		return err
	}
	type due struct{ id, shopID int64 }
	var list []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.shopID); err != nil {
			rows.Close()
			return err
		}
		list = append(list, d)
	}
	rows.Close()
	for _, d := range list {
		if err := s.refresh(ctx, d.shopID, d.id); err != nil {
			s.log.Warn("tracking query", "shop", d.shopID, "parcel", d.id, "err", err.Error())
		}
	}
	return rows.Err()
}

func (s *Service) refresh(ctx context.Context, shopID, traceID int64) error {
	w, err := s.waybill(ctx, shopID, traceID)
	if err != nil {
		return err
	}
	t, err := s.provider.Query(ctx, w)
	if err != nil {
		// No answer yet is still news of a kind: wait QuietAfter again.
		_, uerr := s.db.Exec(ctx, `UPDATE parcel_traces SET checked_at = ? WHERE id = ? AND shop_id = ?`, s.now().UnixMilli(), traceID, shopID)
		if uerr != nil {
			return uerr
		}
		return err
	}
	return s.apply(ctx, shopID, w.Company, w.Number, t)
}

// ForOrder returns order's parcels (memberID other than 0: only that
// buyer's order).
func (s *Service) ForOrder(ctx context.Context, shopID, orderID, memberID int64) (OrderParcels, error) {
	var n int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM orders WHERE id = ? AND shop_id = ? AND (? = 0 OR member_id = ?)`,
		orderID, shopID, memberID, memberID).Scan(&n); err != nil || n == 0 {
		if err == nil {
			err = errs.E(errs.NotFound, "order_not_found", "no such order")
		}
		return OrderParcels{}, err
	}
	rows, err := s.db.Query(ctx, `SELECT carrier, tracking_no, state, events, checked_at FROM parcel_traces
		WHERE order_id = ? AND shop_id = ? ORDER BY id`, orderID, shopID)
	if err != nil {
		return OrderParcels{}, errs.Wrap("parcels", err)
	}
	defer rows.Close()
	out := OrderParcels{Parcels: []Parcel{}, Tracking: s.Enabled()}
	for rows.Next() {
		var p Parcel
		var st int
		var events string
		var checked *int64
		if err := rows.Scan(&p.Carrier, &p.TrackingNo, &st, &events, &checked); err != nil {
			return OrderParcels{}, err
		}
		p.State, p.Route = stateName(st), []Event{}
		_ = json.Unmarshal([]byte(events), &p.Route)
		if c, ok := carriers.Lookup(p.Carrier); ok {
			p.CarrierName = c.Name
		}
		if checked != nil {
			t := time.UnixMilli(*checked).UTC()
			p.CheckedAt = &t
		}
		out.Parcels = append(out.Parcels, p)
	}
	return out, rows.Err()
}
