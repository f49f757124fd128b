package moderation

import "time"

// The shapes buyers get. The published list is readable with only a shop's
// appid, so a PublicItem carries nothing of its author (no member id) nor of
// its review; an author's own MyItem adds whether it is published, held for
// review or rejected, never which rules matched or the verdict.

// PublicItem is published content as anyone sees it.
type PublicItem struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind" enum:"comment,review,nickname,post" doc:"comment, review, nickname or post"`
	Target    string    `json:"target" doc:"what it is about, e.g. product:12"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
}

// MyItem is content its author submitted.
type MyItem struct {
	ID           int64     `json:"id"`
	Kind         string    `json:"kind" enum:"comment,review,nickname,post" doc:"comment, review, nickname or post"`
	Target       string    `json:"target" doc:"what it is about, e.g. product:12"`
	Text         string    `json:"text"`
	Status       string    `json:"status" enum:"published,pending,rejected,removed" doc:"published, pending (in review), rejected or removed"`
	RejectReason string    `json:"reject_reason,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

func (it Item) public() PublicItem {
	return PublicItem{ID: it.ID, Kind: it.Kind, Target: it.Target, Text: it.Text, CreatedAt: it.CreatedAt}
}

func (it Item) mine() MyItem {
	return MyItem{ID: it.ID, Kind: it.Kind, Target: it.Target, Text: it.Text, Status: it.Status,
		RejectReason: it.RejectReason, CreatedAt: it.CreatedAt}
}
