package achievements

import "time"

// The buyers' types: the session is the member, so none carries a member id.

// Task statuses.
const (
	StatusOpen    = "open"
	StatusDone    = "done"
	StatusExpired = "expired"
)

// BuyerTasks is the buyer's new-member tasks.
type BuyerTasks struct {
	EndsAt time.Time   `json:"ends_at" doc:"when the first week ends (midnight Asia/Shanghai after the 7th day)"`
	Open   bool        `json:"open" doc:"false once the first week is over"`
	Tasks  []BuyerTask `json:"tasks"`
}

// BuyerTask is one task and the buyer's progress.
type BuyerTask struct {
	Task        string     `json:"task" enum:"profile,phone,first_purchase,first_checkin"`
	Title       string     `json:"title"`
	Points      int64      `json:"points" doc:"the reward (what was given, once done)"`
	Status      string     `json:"status" enum:"open,done,expired"`
	CompletedAt *time.Time `json:"completed_at"`
}

// BuyerBadge is a badge as the buyer sees it.
type BuyerBadge struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Kind        string     `json:"kind" enum:"checkin_streak,orders_received,spent"`
	Threshold   int64      `json:"threshold"`
	Progress    int64      `json:"progress" doc:"the buyer's value toward the threshold (capped at it)"`
	Earned      bool       `json:"earned"`
	AwardedAt   *time.Time `json:"awarded_at"`
}
