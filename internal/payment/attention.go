package payment

import (
	"context"
	"time"

	"github.com/kaidian/kaidian/internal/platform/errs"
)

// attentionAfter is how long a refund may wait for WeChat before staff
// are shown it.
const attentionAfter = 30 * time.Minute

// AttentionRefund is a refund staff should look at: how long it has been
// open and why.
type AttentionRefund struct {
	Refund
	WaitingSeconds int64  `json:"waiting_seconds" doc:"since the refund was requested"`
	Why            string `json:"why"`
}

// AttentionKeys are an attention item's sort keys, its page cursor:
// created_at, id.
func (a AttentionRefund) AttentionKeys() []int64 { return []int64{a.CreatedAt.UnixMilli(), a.ID} }

// Attention lists a shop's refunds that need staff: WeChat's answer is
// unknown (lost, timed out, unverifiable: asked again), WeChat has not
// accepted or finished it after attentionAfter, or WeChat flagged it
// abnormal. Oldest first, a page at a time: after the position after
// (AttentionKeys of the previous page's last item; nil = from the oldest),
// up to limit+1 rows so httpx.PageOfKeys knows whether there is a next page.
func (s *Service) Attention(ctx context.Context, shopID int64, after []int64, limit int) ([]AttentionRefund, error) {
	now := s.now()
	at, id := int64(-1), int64(0)
	if len(after) == 2 {
		at, id = after[0], after[1]
	}
	rows, err := s.db.Query(ctx, `SELECT `+refundColumns+` FROM refunds WHERE shop_id = ?
		AND (status = 'abnormal' OR (status IN ('pending','processing') AND (unknown_since IS NOT NULL OR created_at < ?)))
		AND (created_at > ? OR (created_at = ? AND id > ?))
		ORDER BY created_at, id LIMIT ?`, shopID, now.Add(-attentionAfter).UnixMilli(), at, at, id, limit+1)
	if err != nil {
		return nil, errs.Wrap("refunds needing attention", err)
	}
	defer rows.Close()
	out := []AttentionRefund{}
	for rows.Next() {
		r, err := scanRefund(rows)
		if err != nil {
			return nil, errs.Wrap("refunds needing attention", err)
		}
		out = append(out, AttentionRefund{Refund: r, WaitingSeconds: int64(now.Sub(r.CreatedAt) / time.Second), Why: why(r)})
	}
	return out, errs.Wrap("refunds needing attention", rows.Err())
}

func why(r Refund) string {
	switch {
	case r.Status == "abnormal":
		return "WeChat Pay reports the refund abnormal (the buyer's account or card cannot take it): handle it in the merchant platform"
	case r.UnknownSince != nil:
		return "WeChat Pay's answer is unknown since " + r.UnknownSince.Format(time.RFC3339) + " (" + r.LastError + "); kaidian keeps asking"
	case r.Status == "pending" && r.LastError != "":
		return "WeChat Pay has not accepted the refund yet (" + r.LastError + "); kaidian keeps trying"
	case r.Status == "pending":
		return "not yet accepted by WeChat Pay; kaidian keeps trying"
	}
	return "WeChat Pay is still processing the refund; kaidian keeps asking"
}
