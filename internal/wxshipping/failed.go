package wxshipping

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

const (
	// stuckAfter is how long a report may stay pending without a change
	// before staff are shown it: a running retry changes it far more often
	// (the job's backoff reaches an hour only near its last attempts).
	stuckAfter = 30 * time.Minute
	// stuckAttempts is how many refused attempts make a pending report
	// worth showing: WeChat keeps answering busy or "no such payment".
	stuckAttempts = 5
)

// FailedUpload is a shipping report staff should look at: refused by
// WeChat (failed), or pending for too long or after too many attempts.
type FailedUpload struct {
	Upload
	OrderNo   string    `json:"order_no"`
	ShippedAt time.Time `json:"shipped_at" doc:"when the report was queued: the shipment"`
	Why       string    `json:"why"`
}

// FailedKeys are a list item's sort keys, its page cursor: shipped_at, order_id.
func (f FailedUpload) FailedKeys() []int64 { return []int64{f.ShippedAt.UnixMilli(), f.OrderID} }

// Failed lists a shop's shipping reports that failed or are stuck, newest
// shipment first, a page at a time: after the position after (FailedKeys
// of the previous page's last item; nil = from the newest), up to limit+1
// rows so httpx.PageOfKeys knows whether there is a next page.
func (s *Service) Failed(ctx context.Context, shopID int64, after []int64, limit int) ([]FailedUpload, error) {
	now := s.now()
	at, id := int64(math.MaxInt64), int64(math.MaxInt64)
	if len(after) == 2 {
		at, id = after[0], after[1]
	}
	out, err := db.All(ctx, s.db, scanFailed, `SELECT u.order_id, o.order_no, u.state, u.logistics_type, u.attempts, u.errcode,
			u.last_error, u.uploaded_at, u.updated_at, u.created_at
		FROM wx_shipping_uploads u JOIN orders o ON o.id = u.order_id AND o.shop_id = u.shop_id
		WHERE u.shop_id = ? AND (u.state = 'failed' OR (u.state = 'pending' AND (u.updated_at < ? OR u.attempts >= ?)))
			AND (u.created_at < ? OR (u.created_at = ? AND u.order_id < ?))
		ORDER BY u.created_at DESC, u.order_id DESC LIMIT ?`,
		shopID, now.Add(-stuckAfter).UnixMilli(), stuckAttempts, at, at, id, limit+1)
	if err != nil {
		return nil, errs.Wrap("failed shipping uploads", err)
	}
	for i := range out {
		out[i].Why = failedWhy(out[i].Upload, now)
	}
	return out, nil
}

func scanFailed(row db.Scanner) (FailedUpload, error) {
	var f FailedUpload
	var uploadedAt *int64
	var updatedAt, createdAt int64
	err := row.Scan(&f.OrderID, &f.OrderNo, &f.State, &f.LogisticsType, &f.Attempts, &f.ErrCode, &f.LastError,
		&uploadedAt, &updatedAt, &createdAt)
	if uploadedAt != nil {
		t := time.UnixMilli(*uploadedAt).UTC()
		f.UploadedAt = &t
	}
	f.UpdatedAt, f.ShippedAt = time.UnixMilli(updatedAt).UTC(), time.UnixMilli(createdAt).UTC()
	return f, err
}

// failedWhy says in a sentence why staff see a report and what happens next.
func failedWhy(u Upload, now time.Time) string {
	last := ""
	if u.LastError != "" {
		last = " (" + u.LastError + ")"
	}
	switch {
	case u.State == Failed:
		return "WeChat refused the report" + last + ": fix the cause, then retry; the buyer's money stays frozen until it is reported"
	case u.Attempts >= stuckAttempts:
		return "WeChat has not accepted the report after " + strconv.Itoa(u.Attempts) + " attempts" + last + "; kaidian keeps trying"
	}
	return "no progress for " + strconv.Itoa(int(now.Sub(u.UpdatedAt).Minutes())) + " minutes; the upload job has not run yet (is a server running its jobs?)"
}
