package camp

// The buyers' types: no staff fields, no other learner's member id.

// BuyerCamp is a camp as buyers see it.
type BuyerCamp struct {
	ID        int64         `json:"id"`
	Title     string        `json:"title"`
	Intro     string        `json:"intro"`
	PriceFen  int64         `json:"price_fen" doc:"0: free"`
	StartDate string        `json:"start_date" doc:"2006-01-02 (Asia/Shanghai)"`
	EndDate   string        `json:"end_date"`
	Days      int           `json:"days"`
	Enrolled  int64         `json:"enrolled" doc:"learners enrolled (a real count)"`
	SeatsLeft *int64        `json:"seats_left" doc:"null: no limit"`
	Status    string        `json:"status" enum:"open,closed" doc:"open: joinable; closed: no new learners"`
	Schedule  []ScheduleDay `json:"schedule" doc:"each day's date and task title (empty in lists)"`
}

// ScheduleDay is a day in a camp's public schedule.
type ScheduleDay struct {
	Day   int    `json:"day"`
	Date  string `json:"date"`
	Title string `json:"title"`
}

func toBuyer(r row) BuyerCamp {
	b := BuyerCamp{ID: r.ID, Title: r.Title, Intro: r.Intro, PriceFen: r.PriceFen, StartDate: r.StartDate, EndDate: r.EndDate,
		Days: r.Days, Enrolled: r.Enrolled, Status: r.Status, Schedule: []ScheduleDay{}}
	if r.Capacity > 0 {
		left := max(r.Capacity-r.Enrolled, 0)
		b.SeatsLeft = &left
	}
	return b
}
