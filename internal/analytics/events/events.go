// Package events is the event store of issue 16: the mini program's
// batches (POST /api/v1/events), the events the domains write in the
// transaction of the change itself (order created, paid and refunded,
// signup, check-in: see hooks.go), the in-memory bitmaps of members per
// event name and day (index.go), and the funnels and retention grids
// answered from them (funnel.go, retention.go).
//
// It sits above the domains: it reads their hook types, they never import
// it (server wires the hooks).
package events

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/ratelimit"
)

// china is the business day's zone (Asia/Shanghai has no DST).
var china = time.FixedZone("CST", 8*3600)

// Limits of a batch and of each event.
const (
	MaxBatchEvents = 100         // events per batch
	MaxBatchBytes  = 256 << 10   // bytes per batch body
	MaxPropsBytes  = 4 << 10     // bytes of one event's props
	MaxPropsDepth  = 4           // nesting of props: {"a":{"b":{"c":[1]}}} is 4
	SkewBound      = time.Minute // beyond this the server's clock wins
	MaxFuture      = 24 * time.Hour
	MaxAge         = 7 * 24 * time.Hour
)

// Names the server writes; a client may not send them (money figures never
// depend on the client).
const (
	OrderCreated  = "order_created"
	OrderPaid     = "order_paid"
	OrderRefunded = "order_refunded"
	Signup        = "signup"
	CheckIn       = "checkin"
)

var serverNames = map[string]bool{OrderCreated: true, OrderPaid: true, OrderRefunded: true, Signup: true, CheckIn: true}

// ClientNames are the client events kaidian knows; others are stored too,
// and listed for staff (ListUnknown).
var ClientNames = map[string]bool{
	"app_launch": true, "app_show": true, "app_hide": true, "page_view": true, "tap": true, "share": true,
	"search": true, "product_view": true, "add_to_cart": true, "checkout_start": true, "lesson_play": true,
}

// Known reports whether name is a client or server event kaidian declares.
func Known(name string) bool { return ClientNames[name] || serverNames[name] }

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// ValidName reports whether name can be an event's name.
func ValidName(name string) bool { return nameRE.MatchString(name) }

// Event is one event of a batch as the mini program sends it.
type Event struct {
	EventID     string          `json:"event_id" doc:"8–64 characters, unique per shop (a UUID): a batch sent again stores nothing twice"`
	Name        string          `json:"name" doc:"lower_snake_case, at most 64 characters; names kaidian does not know are stored and listed for staff"`
	Time        int64           `json:"time,omitempty" doc:"Unix ms on the client's clock; absent: the server's time"`
	SessionID   string          `json:"session_id,omitempty" doc:"at most 64 characters"`
	Page        string          `json:"page,omitempty" doc:"the page route, at most 256 characters"`
	AnonymousID string          `json:"anonymous_id,omitempty" doc:"the device's id before login, at most 64 characters"`
	Props       json.RawMessage `json:"props,omitempty" doc:"a JSON object, at most 4 KB and 4 levels deep"`
}

// Batch is what POST /api/v1/events takes.
type Batch struct {
	SentAt int64   `json:"sent_at,omitempty" doc:"Unix ms on the client's clock when the batch was sent: when it is off from the server's by more than a minute, every event's time is shifted by the difference"`
	Events []Event `json:"events" doc:"1 to 100 events"`
}

// rawBatch decodes each event on its own, so one malformed event is
// reported by its index while the others are kept.
type rawBatch struct {
	SentAt int64             `json:"sent_at"`
	Events []json.RawMessage `json:"events"`
}

// Rejection is an event of a batch that was not stored.
type Rejection struct {
	Index   int    `json:"index" doc:"its position in events, from 0"`
	Code    string `json:"code" enum:"invalid_event,invalid_event_id,invalid_name,reserved_name,invalid_field,props_not_object,props_too_large,props_too_deep,event_time_future,event_time_too_old"`
	Message string `json:"message"`
}

// Result is the answer to a batch.
type Result struct {
	Accepted     int         `json:"accepted" doc:"events stored now"`
	Duplicates   int         `json:"duplicates" doc:"events whose event_id was stored before (or twice in the batch)"`
	Rejected     []Rejection `json:"rejected" doc:"events refused, by index; the others were kept"`
	UnknownNames []string    `json:"unknown_names" doc:"names of accepted events that kaidian does not know (stored anyway)"`
}

// Limits are how many batches a member and an address may send per minute.
type Limits struct {
	PerMember, PerAddress int
}

// DefaultLimits allow a busy client a batch every second.
var DefaultLimits = Limits{PerMember: 120, PerAddress: 1200}

// Service stores events.
type Service struct {
	db      *db.DB
	limiter *ratelimit.Limiter
	limits  Limits
	now     func() time.Time
	index   *Index
}

// NewService returns the event service on d; limiter may be nil (no limits).
func NewService(d *db.DB, limiter *ratelimit.Limiter) *Service {
	s := &Service{db: d, limiter: limiter, limits: DefaultLimits, now: time.Now}
	s.index = NewIndex(d)
	return s
}

// SetLimits changes the per-minute limits (benchmarks lift them).
func (s *Service) SetLimits(l Limits) { s.limits = l }

// Index is the service's bitmaps.
func (s *Service) Index() *Index { return s.index }

// row is an event ready to insert.
type row struct {
	eventID, anonID, name, session, page, props string
	memberID, at, clientAt                      int64
}

// Ingest validates and stores a batch from memberID of shopID (0 for
// anonymous: then each event needs an anonymous_id). Good events are
// stored even when others are refused.
func (s *Service) Ingest(ctx context.Context, shopID, memberID int64, address string, raw rawBatch) (Result, error) {
	if len(raw.Events) == 0 || len(raw.Events) > MaxBatchEvents {
		return Result{}, errs.Field("events", "invalid_batch_size", fmt.Sprintf("send 1 to %d events", MaxBatchEvents))
	}
	if err := s.checkRate(ctx, shopID, memberID, address); err != nil {
		return Result{}, err
	}
	now := s.now().UnixMilli()
	offset := int64(0)
	if raw.SentAt > 0 {
		if d := now - raw.SentAt; d > SkewBound.Milliseconds() || -d > SkewBound.Milliseconds() {
			offset = d
		}
	}
	res := Result{Rejected: []Rejection{}, UnknownNames: []string{}}
	rows := make([]row, 0, len(raw.Events))
	seen := make(map[string]bool, len(raw.Events))
	for i, msg := range raw.Events {
		r, rej := parse(msg, memberID, now, offset)
		switch {
		case rej != nil:
			rej.Index = i
			res.Rejected = append(res.Rejected, *rej)
		case seen[r.eventID]:
			res.Duplicates++
		default:
			seen[r.eventID] = true
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return res, rejectedAll(res)
	}
	stored, err := s.store(ctx, shopID, rows, now)
	if err != nil {
		return Result{}, err
	}
	res.Accepted = stored
	res.Duplicates += len(rows) - stored
	res.UnknownNames = unknownNames(rows)
	return res, nil
}

// rejectedAll is the 400 of a batch of which nothing could be kept (a
// batch of only duplicates is a success: it was stored before).
func rejectedAll(res Result) error {
	if len(res.Rejected) == 0 {
		return nil
	}
	e := errs.E(errs.Invalid, "batch_rejected", "no event of the batch could be stored; see fields")
	e.Fields = map[string]string{}
	for _, r := range res.Rejected {
		e.Fields["events["+strconv.Itoa(r.Index)+"]"] = r.Code + ": " + r.Message
	}
	return e
}

func unknownNames(rows []row) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, r := range rows {
		if !Known(r.name) && !seen[r.name] {
			seen[r.name] = true
			out = append(out, r.name)
		}
	}
	return out
}

func (s *Service) checkRate(ctx context.Context, shopID, memberID int64, address string) error {
	if s.limiter == nil {
		return nil
	}
	checks := []struct {
		key   string
		limit int
	}{{fmt.Sprintf("events:member:%d:%d", shopID, memberID), s.limits.PerMember}, {"events:addr:" + address, s.limits.PerAddress}}
	if memberID == 0 { // anonymous: only the address tells senders apart
		checks = checks[1:]
	}
	for _, c := range checks {
		if c.limit <= 0 || (c.key == "events:addr:" && address == "") {
			continue
		}
		wait, err := s.limiter.Check(ctx, c.key, c.limit, time.Minute)
		if err != nil {
			return errs.Wrap("events rate", err)
		}
		if wait > 0 {
			return errs.TooMany("events_rate_limited", "too many event batches; wait Retry-After seconds", wait)
		}
	}
	return nil
}

func reject(code, msg string) *Rejection { return &Rejection{Code: code, Message: msg} }

// parse checks one event and fixes its time: the client's clock shifted
// by the batch's offset; beyond the bounds refused; ahead of the server's
// clock by more than SkewBound, the server's time.
func parse(msg json.RawMessage, memberID, now, offset int64) (row, *Rejection) {
	var e Event
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return row{}, reject("invalid_event", "not an event object: "+err.Error())
	}
	if rej := checkFields(e, memberID); rej != nil {
		return row{}, rej
	}
	props, rej := checkProps(e.Props)
	if rej != nil {
		return row{}, rej
	}
	at := now
	if e.Time != 0 {
		at = e.Time + offset
	}
	switch {
	case at > now+MaxFuture.Milliseconds():
		return row{}, reject("event_time_future", "time is more than a day ahead of the server's clock")
	case at < now-MaxAge.Milliseconds():
		return row{}, reject("event_time_too_old", "time is more than 7 days in the past")
	case at > now+SkewBound.Milliseconds():
		at = now
	}
	return row{eventID: e.EventID, anonID: e.AnonymousID, name: e.Name, session: e.SessionID, page: e.Page, props: props,
		memberID: memberID, at: at, clientAt: e.Time}, nil
}

func checkFields(e Event, memberID int64) *Rejection {
	switch {
	case len(e.EventID) < 8 || len(e.EventID) > 64 || !printable(e.EventID):
		return reject("invalid_event_id", "event_id must be 8 to 64 printable ASCII characters")
	case !ValidName(e.Name):
		return reject("invalid_name", "name must be lower_snake_case, at most 64 characters")
	case serverNames[e.Name]:
		return reject("reserved_name", e.Name+" is written by the server only")
	case e.Time < 0:
		return reject("invalid_field", "time must be Unix milliseconds")
	case len(e.SessionID) > 64 || len(e.AnonymousID) > 64 || len(e.Page) > 256 || !text(e.SessionID) || !text(e.AnonymousID) || !text(e.Page):
		return reject("invalid_field", "session_id and anonymous_id are at most 64 characters, page at most 256, all text")
	case memberID == 0 && e.AnonymousID == "":
		return reject("invalid_field", "anonymous_id is needed before login")
	}
	return nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func text(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// checkProps returns the props compacted ("{}" when absent).
func checkProps(p json.RawMessage) (string, *Rejection) {
	p = bytes.TrimSpace(p)
	if len(p) == 0 || bytes.Equal(p, []byte("null")) {
		return "{}", nil
	}
	if len(p) > MaxPropsBytes {
		return "", reject("props_too_large", fmt.Sprintf("props are at most %d bytes", MaxPropsBytes))
	}
	if p[0] != '{' {
		return "", reject("props_not_object", "props must be a JSON object")
	}
	if depth(p) > MaxPropsDepth {
		return "", reject("props_too_deep", fmt.Sprintf("props nest at most %d levels", MaxPropsDepth))
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, p); err != nil || bytes.Contains(buf.Bytes(), []byte(`\u0000`)) {
		return "", reject("props_not_object", "props must be a JSON object of text")
	}
	return buf.String(), nil
}

// depth is how deeply p's objects and arrays nest (p is valid JSON: the
// event decoded), strings skipped.
func depth(p []byte) int {
	d, most, inString := 0, 0, false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			d++
			most = max(most, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return most
}

// store inserts rows in one statement per batch (a group commit on
// SQLite), skipping event ids stored before, and counts unknown names. It
// returns how many were new.
func (s *Service) store(ctx context.Context, shopID int64, rows []row, now int64) (int, error) {
	// Overlapping batches (a client's retry in flight) insert their keys
	// in one order, so two PostgreSQL transactions never wait on each
	// other's keys crosswise (a deadlock).
	slices.SortFunc(rows, func(a, b row) int { return strings.Compare(a.eventID, b.eventID) })
	var stored int
	err := s.db.InGroupTx(ctx, func(tx *db.Tx) error {
		stored = 0
		var sb strings.Builder
		sb.WriteString(`INSERT INTO analytics_events (shop_id, event_id, member_id, anon_id, name, source, at, client_at, received_at, session_id, page, props) VALUES `)
		args := make([]any, 0, len(rows)*11)
		for i, r := range rows {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(`(?, ?, ?, ?, ?, 'client', ?, ?, ?, ?, ?, ?)`)
			args = append(args, shopID, r.eventID, r.memberID, r.anonID, r.name, r.at, r.clientAt, now, r.session, r.page, r.props)
		}
		sb.WriteString(` ON CONFLICT (shop_id, event_id) DO NOTHING`)
		res, err := tx.Exec(ctx, sb.String(), args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		stored = int(n)
		return countUnknown(ctx, tx, shopID, rows, now)
	})
	return stored, errs.Wrap("store events", err)
}

func countUnknown(ctx context.Context, tx *db.Tx, shopID int64, rows []row, now int64) error {
	counts := map[string]int{}
	for _, r := range rows {
		if !Known(r.name) {
			counts[r.name]++
		}
	}
	for name, n := range counts {
		if _, err := tx.Exec(ctx, `INSERT INTO analytics_unknown_names (shop_id, name, count, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (shop_id, name) DO UPDATE SET count = analytics_unknown_names.count + excluded.count, last_seen = excluded.last_seen`,
			shopID, name, n, now, now); err != nil {
			return err
		}
	}
	return nil
}

// Record writes a server event in tx, the transaction of the change it
// describes; eventID makes a retried change record it once.
func Record(ctx context.Context, tx *db.Tx, shopID, memberID int64, name, eventID string, at time.Time, props map[string]any) error {
	p, err := json.Marshal(props)
	if err != nil {
		return err
	}
	if props == nil {
		p = []byte("{}")
	}
	ms := at.UnixMilli()
	_, err = tx.Exec(ctx, `INSERT INTO analytics_events (shop_id, event_id, member_id, name, source, at, received_at, props)
		VALUES (?, ?, ?, ?, 'server', ?, ?, ?) ON CONFLICT (shop_id, event_id) DO NOTHING`,
		shopID, eventID, memberID, name, ms, ms, string(p))
	return errs.Wrap("record "+name, err)
}

// UnknownName is a name clients sent that kaidian does not declare.
type UnknownName struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Count     int64     `json:"count" doc:"events stored with it"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// ListUnknown returns a page of shopID's unknown names, the newest first
// (ids below before; 0: from the newest).
func (s *Service) ListUnknown(ctx context.Context, shopID, before int64, limit int) ([]UnknownName, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	out, err := db.All(ctx, s.db, func(r db.Scanner) (UnknownName, error) {
		var u UnknownName
		var first, last int64
		err := r.Scan(&u.ID, &u.Name, &u.Count, &first, &last)
		u.FirstSeen, u.LastSeen = time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
		return u, err
	}, `SELECT id, name, count, first_seen, last_seen FROM analytics_unknown_names WHERE shop_id = ? AND id < ?
		ORDER BY id DESC LIMIT ?`, shopID, before, limit)
	return out, errs.Wrap("unknown names", err)
}
