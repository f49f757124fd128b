package support

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/workcal"
)

// Service keeps tickets and SLA policies.
type Service struct {
	db  *db.DB
	now func() time.Time
}

// NewService returns the help desk on d.
func NewService(d *db.DB) *Service { return &Service{db: d, now: time.Now} }

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Side is who acts: the shop (the client) or its provider (the operator or
// an agency running the mini program).
type Side struct {
	AccountID int64
	Provider  bool
}

// NewTicket is what the client gives to open a ticket.
type NewTicket struct {
	Kind        string  `json:"kind" enum:"bug,change,question,data_recovery" doc:"bug, change (request), question or data_recovery (restore something deleted by mistake)"`
	Priority    string  `json:"priority" enum:"p1,p2,p3,p4" doc:"p1 (the shop is down) … p4 (a question)"`
	Title       string  `json:"title"`
	Body        string  `json:"body"`
	Page        string  `json:"page,omitempty" doc:"the console page it came from"`
	Screenshots []int64 `json:"screenshots,omitempty" doc:"media ids of uploaded images (POST /admin/api/v1/media), at most 9"`
}

// Ticket is a ticket as both sides see it.
type Ticket struct {
	ID                 int64      `json:"id"`
	Kind               string     `json:"kind" enum:"bug,change,question,data_recovery"`
	Priority           string     `json:"priority" enum:"p1,p2,p3,p4"`
	Title              string     `json:"title"`
	Body               string     `json:"body"`
	Page               string     `json:"page"`
	Screenshots        []int64    `json:"screenshots"`
	Status             string     `json:"status" enum:"open,in_progress,waiting_client,resolved,closed" doc:"waiting_client stops the resolution clock"`
	OpenedBy           int64      `json:"opened_by"`
	OpenedAt           time.Time  `json:"opened_at"`
	ResponseDueAt      time.Time  `json:"response_due_at" doc:"fixed when the ticket opened"`
	RespondedAt        *time.Time `json:"responded_at"`
	ResponseBreached   bool       `json:"response_breached" doc:"answered after the deadline, or not answered and past it"`
	ResolutionDueAt    time.Time  `json:"resolution_due_at" doc:"moved later by the working time spent waiting for the client (while waiting, as of now)"`
	ResolvedAt         *time.Time `json:"resolved_at"`
	ResolutionBreached bool       `json:"resolution_breached"`
	WaitingSince       *time.Time `json:"waiting_since" doc:"set while waiting for the client"`
	EstimateMinutes    *int64     `json:"estimate_minutes" doc:"a change request's estimate, set by the provider"`
	EstimateApprovedAt *time.Time `json:"estimate_approved_at" doc:"when the shop approved the estimate: work on a change request starts only then"`
	TimeSpentMinutes   int64      `json:"time_spent_minutes" doc:"time the provider recorded on the ticket"`
	Messages           []Message  `json:"messages,omitempty" doc:"in the detail only, oldest first"`

	shopID              int64
	storedResolutionDue time.Time // before the current wait, if any
}

// Message is one reply on a ticket.
type Message struct {
	ID         int64     `json:"id"`
	AuthorID   int64     `json:"author_id"`
	FromAgency bool      `json:"from_provider" doc:"written by the operator or agency, not the shop"`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"created_at"`
}

var (
	errNotFound     = errs.E(errs.NotFound, "ticket_not_found", "no such ticket in this shop")
	errTransition   = errs.E(errs.Conflict, "illegal_transition", "the ticket's status does not allow that (or it changed meanwhile; reload)")
	errInvalidMonth = errs.Field("month", "invalid_month", "month is YYYY-MM")
	errNotApproved  = errs.E(errs.Conflict, "estimate_not_approved", "work on a change request starts once the shop has approved its estimate")
)

func (n *NewTicket) check() error {
	n.Title, n.Body, n.Page = strings.TrimSpace(n.Title), strings.TrimSpace(n.Body), strings.TrimSpace(n.Page)
	switch {
	case !slices.Contains([]string{"bug", "change", "question", "data_recovery"}, n.Kind):
		return errs.Field("kind", "invalid_kind", "kind is bug, change, question or data_recovery")
	case !slices.Contains(Priorities, n.Priority):
		return errs.Field("priority", "invalid_priority", "priority is p1, p2, p3 or p4")
	case n.Title == "" || utf8.RuneCountInString(n.Title) > 120:
		return errs.Field("title", "invalid_title", "a title of 1 to 120 characters")
	case n.Body == "" || utf8.RuneCountInString(n.Body) > 5000:
		return errs.Field("body", "invalid_body", "a description of 1 to 5,000 characters")
	case len(n.Page) > 500:
		return errs.Field("page", "invalid_page", "at most 500 characters")
	case len(n.Screenshots) > 9:
		return errs.Field("screenshots", "too_many_screenshots", "at most 9 screenshots")
	}
	return nil
}

// Open opens a ticket for the shop, its deadlines from the shop's policy.
func (s *Service) Open(ctx context.Context, shopID, by int64, n NewTicket) (Ticket, error) {
	if err := n.check(); err != nil {
		return Ticket{}, err
	}
	var id int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := checkScreenshots(ctx, tx, shopID, n.Screenshots); err != nil {
			return err
		}
		p, err := policyOf(ctx, tx, shopID)
		if err != nil {
			return err
		}
		cal, err := p.calendar()
		if err != nil {
			return err
		}
		now := s.now()
		t := p.Targets[n.Priority]
		respDue, err := cal.Add(now, t.Response)
		if err != nil {
			return err
		}
		resDue, err := cal.Add(now, t.Resolution)
		if err != nil {
			return err
		}
		shots, _ := json.Marshal(nonNil(n.Screenshots))
		return tx.QueryRow(ctx, `INSERT INTO tickets (shop_id, kind, priority, title, body, page, screenshots, status, opened_by, opened_at,
			response_due_at, resolution_due_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?) RETURNING id`,
			shopID, n.Kind, n.Priority, n.Title, n.Body, n.Page, string(shots), by, now.UnixMilli(), respDue.UnixMilli(), resDue.UnixMilli(),
			now.UnixMilli()).Scan(&id)
	})
	if err != nil {
		return Ticket{}, err
	}
	return s.Get(ctx, shopID, id)
}

func nonNil(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}

// checkScreenshots refuses media ids that are not the shop's.
func checkScreenshots(ctx context.Context, tx *db.Tx, shopID int64, ids []int64) error {
	for _, id := range ids {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM media WHERE id = ? AND shop_id = ?`, id, shopID).Scan(&one)
		if db.IsNoRows(err) {
			return errs.Field("screenshots", "media_not_found", "a screenshot is not an uploaded image of this shop")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Reply adds a message. The provider's first reply is the first response;
// a reply from the client while the ticket waits for it resumes the clock.
func (s *Service) Reply(ctx context.Context, shopID, ticketID int64, who Side, body string) (Ticket, error) {
	body = strings.TrimSpace(body)
	if body == "" || utf8.RuneCountInString(body) > 5000 {
		return Ticket{}, errs.Field("body", "invalid_body", "a reply of 1 to 5,000 characters")
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		t, cal, err := s.forUpdate(ctx, tx, shopID, ticketID)
		if err != nil {
			return err
		}
		if t.Status == "closed" {
			return errTransition
		}
		now := s.now()
		if _, err := tx.Exec(ctx, `INSERT INTO ticket_messages (shop_id, ticket_id, author_id, from_agency, body, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			shopID, ticketID, who.AccountID, who.Provider, body, now.UnixMilli()); err != nil {
			return err
		}
		waitsForApproval := t.Kind == "change" && t.EstimateApprovedAt == nil
		switch {
		case who.Provider && t.RespondedAt == nil && waitsForApproval:
			return s.move(ctx, tx, t, t.Status, `responded_at = ?`, now.UnixMilli())
		case who.Provider && t.RespondedAt == nil:
			return s.move(ctx, tx, t, "in_progress", `responded_at = ?`, now.UnixMilli())
		case who.Provider && t.Status == "open" && !waitsForApproval:
			return s.move(ctx, tx, t, "in_progress", "")
		case !who.Provider && t.Status == "waiting_client":
			return s.resume(ctx, tx, t, cal, now)
		}
		return nil
	})
	if err != nil {
		return Ticket{}, err
	}
	return s.Get(ctx, shopID, ticketID)
}

// SetStatus changes the status: the provider works on a ticket, waits for
// the client (the resolution clock stops) or resolves it; the client
// closes it or reopens a resolved or closed one.
func (s *Service) SetStatus(ctx context.Context, shopID, ticketID int64, who Side, status string) (Ticket, error) {
	if !slices.Contains([]string{"in_progress", "waiting_client", "resolved", "closed", "reopened"}, status) {
		return Ticket{}, errs.Field("status", "invalid_status", "status is in_progress, waiting_client or resolved (provider), closed or reopened (client)")
	}
	if who.Provider != slices.Contains([]string{"in_progress", "waiting_client", "resolved"}, status) {
		return Ticket{}, errs.E(errs.Forbidden, "not_your_side", "the provider works, waits and resolves; the shop closes and reopens")
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		t, cal, err := s.forUpdate(ctx, tx, shopID, ticketID)
		if err != nil {
			return err
		}
		now := s.now()
		switch {
		case t.Status == "closed" && status != "reopened", t.Status == status:
			return errTransition
		case status == "in_progress" && t.Kind == "change" && t.EstimateApprovedAt == nil:
			return errNotApproved
		case status == "waiting_client":
			return s.move(ctx, tx, t, status, `paused_since = ?`, now.UnixMilli())
		case status == "in_progress" && t.Status == "waiting_client":
			return s.resume(ctx, tx, t, cal, now)
		case status == "in_progress":
			return s.move(ctx, tx, t, status, "")
		case status == "resolved":
			if err := s.resumeIfWaiting(ctx, tx, &t, cal, now); err != nil {
				return err
			}
			return s.move(ctx, tx, t, status, `resolved_at = ?`, now.UnixMilli())
		case status == "closed":
			if err := s.resumeIfWaiting(ctx, tx, &t, cal, now); err != nil {
				return err
			}
			return s.move(ctx, tx, t, status, "")
		default: // reopened
			if t.Status != "resolved" && t.Status != "closed" {
				return errTransition
			}
			return s.move(ctx, tx, t, "in_progress", `resolved_at = NULL`)
		}
	})
	if err != nil {
		return Ticket{}, err
	}
	return s.Get(ctx, shopID, ticketID)
}

// move changes t's status by compare-and-set, with more assignments.
func (s *Service) move(ctx context.Context, tx *db.Tx, t Ticket, to, set string, args ...any) error {
	q := `UPDATE tickets SET status = ?, updated_at = ?`
	if set != "" {
		q += ", " + set
	}
	all := append([]any{to, s.now().UnixMilli()}, args...)
	all = append(all, t.ID, t.Status)
	err := db.ExpectOne(tx.Exec(ctx, q+` WHERE id = ? AND status = ?`, all...))
	if db.IsNoRows(err) {
		return errTransition
	}
	return err
}

// resume ends a wait for the client: the resolution deadline moves later
// by the working minutes waited.
func (s *Service) resume(ctx context.Context, tx *db.Tx, t Ticket, cal *workcal.Calendar, now time.Time) error {
	if err := s.resumeIfWaiting(ctx, tx, &t, cal, now); err != nil {
		return err
	}
	return s.move(ctx, tx, t, "in_progress", "")
}

func (s *Service) resumeIfWaiting(ctx context.Context, tx *db.Tx, t *Ticket, cal *workcal.Calendar, now time.Time) error {
	if t.WaitingSince == nil {
		return nil
	}
	waited := cal.Between(*t.WaitingSince, now)
	due, err := cal.Add(t.storedResolutionDue, waited)
	if err != nil {
		return err
	}
	return db.ExpectOne(tx.Exec(ctx, `UPDATE tickets SET paused_since = NULL, paused_minutes = paused_minutes + ?, resolution_due_at = ?
		WHERE id = ? AND shop_id = ? AND paused_since IS NOT NULL`, waited, due.UnixMilli(), t.ID, t.shopID))
}
