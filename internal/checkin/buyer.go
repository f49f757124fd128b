package checkin

// The buyers' types: the session is the member, so none carries a member
// id, a staff actor or a ledger reason written by staff.

// Calendar is a month of the buyer's check-ins and where the streak stands.
type Calendar struct {
	Month                string        `json:"month" doc:"2006-01"`
	Days                 []CalendarDay `json:"days" doc:"the month's checked-in days, oldest first"`
	Today                string        `json:"today" doc:"the business day now (Asia/Shanghai), 2006-01-02"`
	CheckedInToday       bool          `json:"checked_in_today"`
	Streak               int           `json:"streak" doc:"consecutive days ending today, or yesterday when today is not checked in yet (0: broken)"`
	LongestStreak        int           `json:"longest_streak"`
	TotalDays            int           `json:"total_days"`
	NextCheckinPoints    int64         `json:"next_checkin_points" doc:"what the next check-in earns (today's, or tomorrow's when today is done) if the streak holds"`
	NextReward           *NextReward   `json:"next_reward" doc:"the next streak-day reward; null when the rules name none ahead"`
	Cards                int64         `json:"cards" doc:"make-up cards held"`
	MakeupDays           int           `json:"makeup_days" doc:"how many days back a make-up reaches"`
	MakeupsLeftThisMonth int           `json:"makeups_left_this_month"`
	RuleVersion          int64         `json:"rule_version"`
}

// CalendarDay is one checked-in day.
type CalendarDay struct {
	Day    string `json:"day" doc:"2006-01-02"`
	MadeUp bool   `json:"made_up" doc:"filled with a make-up card"`
	Points int64  `json:"points"`
}

// NextReward is the next streak-day reward ahead.
type NextReward struct {
	StreakDay int    `json:"streak_day" doc:"the streak it fires at"`
	Points    int64  `json:"points"`
	Label     string `json:"label"`
	InDays    int    `json:"in_days" doc:"days from today until the check-in that earns it (0: today's)"`
}

// MakeupResult is the outcome of a make-up.
type MakeupResult struct {
	Day                  string `json:"day" doc:"the day filled"`
	Streak               int    `json:"streak" doc:"the current streak after the fill"`
	LongestStreak        int    `json:"longest_streak"`
	Cards                int64  `json:"cards" doc:"make-up cards left"`
	MakeupsLeftThisMonth int    `json:"makeups_left_this_month"`
}
