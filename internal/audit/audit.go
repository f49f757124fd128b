// Package audit is the staff audit log (issue 18): every staff action that
// changes data or takes personal data out, who did it, when, from where,
// what, and the resource before and after; append-only, chained by an
// HMAC so a deleted, edited or reordered record is found by Verify
// (`kaidian audit verify`), kept at least 180 days, searchable and
// exportable. It imports only platform packages.
package audit

import (
	"context"
	"log/slog"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// MinKeep is the shortest time records are kept: the cybersecurity law asks
// for six months of operation logs. The database refuses to delete younger
// rows (a trigger), whatever the setting.
const MinKeep = 180 * 24 * time.Hour

// Entry is one record.
type Entry struct {
	ID        int64     `json:"id"`
	ShopID    int64     `json:"shop_id" doc:"0 for deployment-level actions (operators without a shop)"`
	At        time.Time `json:"at"`
	ActorID   int64     `json:"actor_id" doc:"the staff account; 0 when none was logged in (a failed login)"`
	Actor     string    `json:"actor" doc:"username"`
	Role      string    `json:"role"`
	Addr      string    `json:"addr" doc:"the client's address"`
	Action    string    `json:"action" doc:"method and route, e.g. PATCH /admin/api/v1/staff/{id}, or an event name such as staff.login"`
	Target    string    `json:"target" doc:"the path called, or what the event was about"`
	Status    int       `json:"status" doc:"the HTTP status answered (0 for events)"`
	Request   string    `json:"request" doc:"the JSON body sent, secrets replaced by \"[redacted]\""`
	Before    string    `json:"before" doc:"the resource before the change (its GET answer), secrets redacted"`
	After     string    `json:"after" doc:"the answer, secrets redacted"`
	RequestID string    `json:"request_id"`
	Seq       int64     `json:"seq" doc:"its place in the hash chain; 0 until sealed (within seconds)"`
}

// Service writes, seals, verifies, prunes and reads the log.
type Service struct {
	db   *db.DB
	key  []byte
	keep time.Duration
	log  *slog.Logger
	now  func() time.Time

	appender appender
}

// NewService returns the log on d. key authenticates the chain (derive it
// from the deployment's secret key: it must not live in the database);
// keep is how long records stay (at least MinKeep).
func NewService(d *db.DB, key []byte, keep time.Duration, log *slog.Logger) *Service {
	if keep < MinKeep {
		keep = MinKeep
	}
	return &Service{db: d, key: key, keep: keep, log: log, now: time.Now}
}

// Record appends e through q (a *db.Tx records it with the change it
// describes). At defaults to now; the rest is stored as given.
func (s *Service) Record(ctx context.Context, q db.Querier, e Entry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	_, err := q.Exec(ctx, `INSERT INTO audit_log (shop_id, at, actor_id, actor, role, addr, action, target, status,
		request, before_json, after_json, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		nullID(e.ShopID), e.At.UnixMilli(), nullID(e.ActorID), e.Actor, e.Role, e.Addr, e.Action, e.Target, e.Status,
		e.Request, e.Before, e.After, e.RequestID)
	return errs.Wrap("record audit entry", err)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

const entryColumns = `id, COALESCE(shop_id, 0), at, COALESCE(actor_id, 0), actor, role, addr, action, target, status,
	request, before_json, after_json, request_id, COALESCE(seq, 0)`

func scanEntry(row db.Scanner) (Entry, error) {
	var e Entry
	var at int64
	err := row.Scan(&e.ID, &e.ShopID, &at, &e.ActorID, &e.Actor, &e.Role, &e.Addr, &e.Action, &e.Target, &e.Status,
		&e.Request, &e.Before, &e.After, &e.RequestID, &e.Seq)
	e.At = time.UnixMilli(at).UTC()
	return e, err
}
