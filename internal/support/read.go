package support

import (
	"context"
	"encoding/json"
	"time"

	"github.com/kaidian/kaidian/internal/platform/chinaday"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/workcal"
)

const ticketColumns = `id, shop_id, kind, priority, title, body, page, screenshots, status, opened_by, opened_at,
	response_due_at, responded_at, resolution_due_at, resolved_at, paused_since, estimate_minutes, estimate_approved_at,
	(SELECT COALESCE(SUM(tt.minutes), 0) FROM ticket_time tt WHERE tt.ticket_id = tickets.id)`

// scanTicket reads a ticket row and judges its deadlines as of now.
func scanTicket(row db.Scanner, cal *workcal.Calendar, now time.Time) (Ticket, error) {
	var t Ticket
	var shots string
	var opened, respDue, resDue int64
	var responded, resolved, paused, approved *int64
	err := row.Scan(&t.ID, &t.shopID, &t.Kind, &t.Priority, &t.Title, &t.Body, &t.Page, &shots, &t.Status, &t.OpenedBy, &opened,
		&respDue, &responded, &resDue, &resolved, &paused, &t.EstimateMinutes, &approved, &t.TimeSpentMinutes)
	if err != nil {
		return t, err
	}
	_ = json.Unmarshal([]byte(shots), &t.Screenshots)
	t.Screenshots = nonNil(t.Screenshots)
	t.OpenedAt, t.ResponseDueAt = ms(opened), ms(respDue)
	t.storedResolutionDue, t.ResolutionDueAt = ms(resDue), ms(resDue)
	t.RespondedAt, t.ResolvedAt, t.WaitingSince = msPtr(responded), msPtr(resolved), msPtr(paused)
	t.EstimateApprovedAt = msPtr(approved)
	if t.WaitingSince != nil { // the clock stopped: the deadline moves as the wait goes on
		if due, err := cal.Add(t.storedResolutionDue, cal.Between(*t.WaitingSince, now)); err == nil {
			t.ResolutionDueAt = due
		}
	}
	t.ResponseBreached = after(t.RespondedAt, now, t.ResponseDueAt)
	t.ResolutionBreached = after(t.ResolvedAt, now, t.ResolutionDueAt) && (t.ResolvedAt != nil || t.WaitingSince == nil)
	return t, nil
}

// after reports whether done (or now, if not done) is past due.
func after(done *time.Time, now, due time.Time) bool {
	if done != nil {
		return done.After(due)
	}
	return now.After(due)
}

func ms(v int64) time.Time { return time.UnixMilli(v).UTC() }

func msPtr(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := ms(*v)
	return &t
}

// calendarOf is the shop's working calendar.
func calendarOf(ctx context.Context, q db.Querier, shopID int64) (*workcal.Calendar, error) {
	p, err := policyOf(ctx, q, shopID)
	if err != nil {
		return nil, err
	}
	return p.calendar()
}

// forUpdate reads a ticket in tx, locking its row on PostgreSQL.
func (s *Service) forUpdate(ctx context.Context, tx *db.Tx, shopID, id int64) (Ticket, *workcal.Calendar, error) {
	cal, err := calendarOf(ctx, tx, shopID)
	if err != nil {
		return Ticket{}, nil, err
	}
	q := `SELECT ` + ticketColumns + ` FROM tickets WHERE id = ? AND shop_id = ?`
	if tx.Engine() == db.Postgres {
		q += ` FOR UPDATE`
	}
	t, err := scanTicket(tx.QueryRow(ctx, q, id, shopID), cal, s.now())
	if db.IsNoRows(err) {
		return t, nil, errNotFound
	}
	return t, cal, err
}

// Get returns a ticket of the shop with its messages.
func (s *Service) Get(ctx context.Context, shopID, id int64) (Ticket, error) {
	cal, err := calendarOf(ctx, s.db, shopID)
	if err != nil {
		return Ticket{}, err
	}
	t, err := scanTicket(s.db.QueryRow(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE id = ? AND shop_id = ?`, id, shopID), cal, s.now())
	if db.IsNoRows(err) {
		return t, errNotFound
	}
	if err != nil {
		return t, err
	}
	t.Messages, err = db.All(ctx, s.db, func(r db.Scanner) (Message, error) {
		var m Message
		var at int64
		err := r.Scan(&m.ID, &m.AuthorID, &m.FromAgency, &m.Body, &at)
		m.CreatedAt = ms(at)
		return m, err
	}, `SELECT id, author_id, from_agency, body, created_at FROM ticket_messages WHERE ticket_id = ? AND shop_id = ? ORDER BY id`, id, shopID)
	if t.Messages == nil {
		t.Messages = []Message{}
	}
	return t, err
}

// List returns the shop's tickets, newest first, after the cursor; status
// filters ("" all, "open" every status not resolved or closed).
func (s *Service) List(ctx context.Context, shopID int64, status string, before int64, limit int) ([]Ticket, error) {
	cal, err := calendarOf(ctx, s.db, shopID)
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + ticketColumns + ` FROM tickets WHERE shop_id = ? AND id < ?`
	args := []any{shopID, before}
	switch status {
	case "":
	case "active":
		q += ` AND status NOT IN ('resolved', 'closed')`
	default:
		q += ` AND status = ?`
		args = append(args, status)
	}
	now := s.now()
	return db.All(ctx, s.db, func(r db.Scanner) (Ticket, error) { return scanTicket(r, cal, now) },
		q+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
}

// MonthReport is a month's tickets by priority (months in Asia/Shanghai).
type MonthReport struct {
	Month       string        `json:"month" doc:"YYYY-MM"`
	Priorities  []PriorityRow `json:"priorities"`
	DataVersion string        `json:"data_version"`
}

// PriorityRow counts the tickets of one priority opened in the month.
type PriorityRow struct {
	Priority           string `json:"priority" enum:"p1,p2,p3,p4"`
	Opened             int    `json:"opened"`
	Responded          int    `json:"responded"`
	ResponseBreaches   int    `json:"response_breaches" doc:"answered late, or unanswered and past due"`
	Resolved           int    `json:"resolved"`
	ResolutionBreaches int    `json:"resolution_breaches"`
}

// Report counts the month's tickets and their breaches, as of now.
func (s *Service) Report(ctx context.Context, shopID int64, month string) (MonthReport, error) {
	first, ok := chinaday.Parse(month + "-01")
	if !ok {
		return MonthReport{}, errInvalidMonth
	}
	next := first.Date().AddDate(0, 1, 0)
	cal, err := calendarOf(ctx, s.db, shopID)
	if err != nil {
		return MonthReport{}, err
	}
	now := s.now()
	tickets, err := db.All(ctx, s.db, func(r db.Scanner) (Ticket, error) { return scanTicket(r, cal, now) },
		`SELECT `+ticketColumns+` FROM tickets WHERE shop_id = ? AND opened_at >= ? AND opened_at < ?`,
		shopID, first.Date().UnixMilli(), next.UnixMilli())
	if err != nil {
		return MonthReport{}, err
	}
	rep := MonthReport{Month: month, DataVersion: workcal.DataVersion}
	for _, p := range Priorities {
		row := PriorityRow{Priority: p}
		for _, t := range tickets {
			if t.Priority != p {
				continue
			}
			row.Opened++
			row.Responded += b2i(t.RespondedAt != nil)
			row.ResponseBreaches += b2i(t.ResponseBreached)
			row.Resolved += b2i(t.ResolvedAt != nil)
			row.ResolutionBreaches += b2i(t.ResolutionBreached)
		}
		rep.Priorities = append(rep.Priorities, row)
	}
	return rep, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
