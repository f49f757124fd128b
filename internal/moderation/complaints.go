package moderation

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
)

// Complaint statuses.
const (
	ComplaintOpen     = "open"
	ComplaintTakeDown = "taken_down"
	ComplaintRejected = "rejected"
)

// ComplaintDeadline is how long staff have to decide on a complaint.
const ComplaintDeadline = 24 * time.Hour

// Complaint is a copyright complaint against an item.
type Complaint struct {
	ID         int64     `json:"id"`
	ItemID     int64     `json:"item_id"`
	Reason     string    `json:"reason"`
	Contact    string    `json:"contact,omitempty"`
	Status     string    `json:"status" enum:"open,taken_down,rejected" doc:"open, taken_down or rejected"`
	DueAt      time.Time `json:"due_at"`
	Overdue    bool      `json:"overdue" doc:"still open after the 24-hour deadline (flagged by a periodic job, and computed on read)"`
	Resolution string    `json:"resolution,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// NewComplaint is what a complainant files.
type NewComplaint struct {
	ItemID  int64  `json:"item_id"`
	Reason  string `json:"reason" doc:"5 to 1,000 characters: what work is infringed and how"`
	Contact string `json:"contact" doc:"optional, up to 100 characters"`
}

func (in *NewComplaint) validate() error {
	in.Reason, in.Contact = strings.TrimSpace(in.Reason), strings.TrimSpace(in.Contact)
	n := utf8.RuneCountInString(in.Reason)
	var v errs.Validator
	v.Check(in.ItemID > 0, "item_id", "must name a piece of content")
	v.Check(n >= 5 && n <= 1000 && clean(in.Reason), "reason", "must be 5 to 1,000 characters")
	v.Check(utf8.RuneCountInString(in.Contact) <= 100 && clean(in.Contact), "contact", "at most 100 characters")
	return v.Err()
}

// FileComplaint opens a complaint against a published item of the shop.
func (s *Service) FileComplaint(ctx context.Context, shopID int64, in NewComplaint) (Complaint, error) {
	if err := in.validate(); err != nil {
		return Complaint{}, err
	}
	it, err := s.GetItem(ctx, shopID, in.ItemID)
	if err != nil {
		return Complaint{}, err
	}
	if it.Status != Published {
		return Complaint{}, errs.E(errs.Conflict, "content_not_published", "only published content can be complained about")
	}
	now := db.Now()
	var id int64
	err = s.db.QueryRow(ctx, `INSERT INTO moderation_complaints (shop_id, item_id, reason, contact, due_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, shopID, in.ItemID, in.Reason, in.Contact,
		now+ComplaintDeadline.Milliseconds(), now, now).Scan(&id)
	if err != nil {
		return Complaint{}, errs.Wrap("file complaint", err)
	}
	return s.GetComplaint(ctx, shopID, id)
}

const complaintColumns = `id, item_id, reason, contact, status, due_at, overdue, resolution, created_at`

func scanComplaint(sc scanner) (Complaint, error) {
	var c Complaint
	var due, created int64
	err := sc.Scan(&c.ID, &c.ItemID, &c.Reason, &c.Contact, &c.Status, &due, &c.Overdue, &c.Resolution, &created)
	c.DueAt, c.CreatedAt = time.UnixMilli(due).UTC(), time.UnixMilli(created).UTC()
	c.Overdue = c.Overdue || c.Status == ComplaintOpen && due < db.Now()
	return c, err
}

var errComplaintNotFound = errs.E(errs.NotFound, "complaint_not_found", "no such complaint")

// GetComplaint returns one of the shop's complaints.
func (s *Service) GetComplaint(ctx context.Context, shopID, id int64) (Complaint, error) {
	c, err := scanComplaint(s.db.QueryRow(ctx, `SELECT `+complaintColumns+` FROM moderation_complaints WHERE id = ? AND shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return Complaint{}, errComplaintNotFound
	}
	return c, errs.Wrap("get complaint", err)
}

// ComplaintKeys are a complaint's sort keys, its page cursor: open first
// (0, else 1), then due_at, then newest id.
func (c Complaint) ComplaintKeys() []int64 {
	rank := int64(1)
	if c.Status == ComplaintOpen {
		rank = 0
	}
	return []int64{rank, c.DueAt.UnixMilli(), c.ID}
}

// ListComplaints returns the shop's complaints (of a status; only the
// overdue ones), open ones first, each group by deadline (then newest id),
// a page at a time: after the position after (ComplaintKeys of the previous
// page's last item; nil = from the start), up to limit+1 rows so
// httpx.PageOfKeys knows whether there is a next page.
func (s *Service) ListComplaints(ctx context.Context, shopID int64, status string, overdueOnly bool, after []int64, limit int) ([]Complaint, error) {
	switch status {
	case "", ComplaintOpen, ComplaintTakeDown, ComplaintRejected:
	default:
		return nil, errs.Field("status", "invalid_query", "must be open, taken_down or rejected")
	}
	rank, due, id := int64(-1), int64(0), int64(0)
	if len(after) == 3 {
		rank, due, id = after[0], after[1], after[2]
	}
	// overdue as scanComplaint computes it: flagged, or open past its deadline.
	rows, err := s.db.Query(ctx, `SELECT `+complaintColumns+` FROM (SELECT *, CASE WHEN status = 'open' THEN 0 ELSE 1 END AS open_rank
		FROM moderation_complaints WHERE shop_id = ? AND (? = '' OR status = ?)
		AND (? = FALSE OR overdue = TRUE OR (status = 'open' AND due_at < ?))) c
		WHERE open_rank > ? OR (open_rank = ? AND (due_at > ? OR (due_at = ? AND id < ?)))
		ORDER BY open_rank, due_at, id DESC LIMIT ?`,
		shopID, status, status, overdueOnly, db.Now(), rank, rank, due, due, id, limit+1)
	if err != nil {
		return nil, errs.Wrap("list complaints", err)
	}
	defer rows.Close()
	out := []Complaint{}
	for rows.Next() {
		c, err := scanComplaint(rows)
		if err != nil {
			return nil, errs.Wrap("list complaints", err)
		}
		out = append(out, c)
	}
	return out, errs.Wrap("list complaints", rows.Err())
}

// TakeDown upholds an open complaint: the item is removed.
func (s *Service) TakeDown(ctx context.Context, shopID, id int64, actor, note string) (Complaint, error) {
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > 200 || !clean(note) {
		return Complaint{}, errs.Field("note", "note_too_long", "at most 200 characters")
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		itemID, err := closeComplaint(ctx, tx, shopID, id, ComplaintTakeDown, note)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE moderation_items SET status = ?, reject_reason = ?, updated_at = ? WHERE id = ? AND shop_id = ?`,
			Removed, "copyright complaint", db.Now(), itemID, shopID); err != nil {
			return err
		}
		return logDecision(ctx, tx, shopID, itemID, id, actor, "take_down", note)
	})
	if err != nil {
		return Complaint{}, errs.Wrap("take down", err)
	}
	return s.GetComplaint(ctx, shopID, id)
}

// RejectComplaint closes an open complaint, leaving the item as it is.
func (s *Service) RejectComplaint(ctx context.Context, shopID, id int64, actor, reason string) (Complaint, error) {
	reason, err := checkReason(reason)
	if err != nil {
		return Complaint{}, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		itemID, err := closeComplaint(ctx, tx, shopID, id, ComplaintRejected, reason)
		if err != nil {
			return err
		}
		return logDecision(ctx, tx, shopID, itemID, id, actor, "reject_complaint", reason)
	})
	if err != nil {
		return Complaint{}, errs.Wrap("reject complaint", err)
	}
	return s.GetComplaint(ctx, shopID, id)
}

// closeComplaint moves an open complaint to status and returns its item.
func closeComplaint(ctx context.Context, tx *db.Tx, shopID, id int64, status, resolution string) (int64, error) {
	var itemID int64
	var cur string
	err := tx.QueryRow(ctx, `SELECT item_id, status FROM moderation_complaints WHERE id = ? AND shop_id = ?`, id, shopID).Scan(&itemID, &cur)
	if db.IsNoRows(err) {
		return 0, errComplaintNotFound
	}
	if err != nil {
		return 0, err
	}
	err = db.ExpectOne(tx.Exec(ctx, `UPDATE moderation_complaints SET status = ?, resolution = ?, updated_at = ?
		WHERE id = ? AND shop_id = ? AND status = 'open'`, status, resolution, db.Now(), id, shopID))
	if db.IsNoRows(err) {
		return 0, errs.E(errs.Conflict, "complaint_closed", "the complaint is already "+cur)
	}
	return itemID, err
}

// FlagOverdue marks open complaints past their deadline and returns how
// many it flagged.
func (s *Service) FlagOverdue(ctx context.Context) (int64, error) {
	res, err := s.db.Exec(ctx, `UPDATE moderation_complaints SET overdue = ?, updated_at = ?
		WHERE status = 'open' AND due_at < ? AND overdue = ?`, true, db.Now(), db.Now(), false)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if n > 0 {
		s.log.Warn("copyright complaints overdue", "flagged", n)
	}
	return n, err
}

// RegisterJobs adds the periodic job that flags overdue complaints.
func (s *Service) RegisterJobs(q *jobs.Queue) {
	q.Every("moderation.complaints.overdue", time.Minute, func(ctx context.Context, _ jobs.Job) error {
		_, err := s.FlagOverdue(ctx)
		return err
	})
}
