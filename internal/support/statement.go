package support

import (
	"context"
	"time"

	"github.com/kaidian/kaidian/internal/platform/chinaday"
	"github.com/kaidian/kaidian/internal/platform/db"
)

// Statement is a month's work for a shop, ready to invoice: each time
// entry as free (in the free period), covered by the package, or billed at
// the hourly rate. Money in fen.
type Statement struct {
	Month           string          `json:"month" doc:"YYYY-MM (Asia/Shanghai)"`
	Lines           []StatementLine `json:"lines"`
	Minutes         int64           `json:"minutes"`
	FreeMinutes     int64           `json:"free_minutes"`
	PackageMinutes  int64           `json:"package_minutes"`
	BillableMinutes int64           `json:"billable_minutes"`
	HourlyRate      int64           `json:"hourly_rate"`
	Billable        int64           `json:"billable" doc:"fen: each line's billable minutes at the hourly rate, rounded up to the fen"`
	PackageFee      int64           `json:"package_fee" doc:"fen: the package price of each period that starts in the month"`
	Total           int64           `json:"total" doc:"fen: billable + package_fee"`
	Balance         *Balance        `json:"balance" doc:"the package period holding the month's last day: what is used and left"`
}

// StatementLine is one time entry.
type StatementLine struct {
	TicketID        int64     `json:"ticket_id"`
	Title           string    `json:"title"`
	SpentAt         time.Time `json:"spent_at"`
	Minutes         int64     `json:"minutes"`
	Note            string    `json:"note"`
	FreeMinutes     int64     `json:"free_minutes"`
	PackageMinutes  int64     `json:"package_minutes"`
	BillableMinutes int64     `json:"billable_minutes"`
	Amount          int64     `json:"amount" doc:"fen"`
}

// Balance is a package period's use.
type Balance struct {
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	Kind        string    `json:"kind" enum:"requests,hours"`
	Quota       int64     `json:"quota" doc:"requests, or minutes for an hours package"`
	Used        int64     `json:"used"`
	Left        int64     `json:"left"`
}

type timeEntry struct {
	ticketID, minutes int64
	title, note       string
	at                time.Time
}

// Statement computes the month's statement from the contract and the time
// entries (those of the package periods the month touches count against
// their quotas from each period's start).
func (s *Service) Statement(ctx context.Context, shopID int64, month string) (Statement, error) {
	first, ok := chinaday.Parse(month + "-01")
	if !ok {
		return Statement{}, errInvalidMonth
	}
	c, err := s.Contract(ctx, shopID)
	if err != nil {
		return Statement{}, err
	}
	from, to := first.Date(), first.Date().AddDate(0, 1, 0)
	since := from
	if ps, _, ok := c.periodOf(from); ok && c.PackageKind != "none" {
		since = ps
	}
	entries, err := db.All(ctx, s.db, func(r db.Scanner) (timeEntry, error) {
		var e timeEntry
		var at int64
		err := r.Scan(&e.ticketID, &e.title, &e.minutes, &e.note, &at)
		e.at = ms(at)
		return e, err
	}, `SELECT t.ticket_id, k.title, t.minutes, t.note, t.spent_at FROM ticket_time t JOIN tickets k ON k.id = t.ticket_id
		WHERE t.shop_id = ? AND t.spent_at >= ? AND t.spent_at < ? ORDER BY t.spent_at, t.id`, shopID, since.UnixMilli(), to.UnixMilli())
	if err != nil {
		return Statement{}, err
	}
	st := Statement{Month: month, Lines: []StatementLine{}, HourlyRate: c.HourlyRate}
	use := newPackageUse(c)
	for _, e := range entries {
		line := use.split(e)
		if e.at.Before(from) {
			continue // counted against its period's quota, billed in its own month
		}
		st.add(line)
	}
	st.PackageFee = c.packageFees(from, to)
	st.Total = st.Billable + st.PackageFee
	st.Balance = use.balance(to.Add(-time.Millisecond))
	return st, nil
}

func (st *Statement) add(l StatementLine) {
	st.Lines = append(st.Lines, l)
	st.Minutes += l.Minutes
	st.FreeMinutes += l.FreeMinutes
	st.PackageMinutes += l.PackageMinutes
	st.BillableMinutes += l.BillableMinutes
	st.Billable += l.Amount
}

// packageFees is the price of each package period starting in [from, to).
func (c Contract) packageFees(from, to time.Time) int64 {
	if c.PackageKind == "none" {
		return 0
	}
	var fee int64
	for t := from; t.Before(to); {
		start, end, ok := c.periodOf(t)
		if !ok {
			t = c.PackageStartsAt
			if !t.Before(to) {
				break
			}
			continue
		}
		if !start.Before(from) {
			fee += c.PackagePrice
		}
		t = end
	}
	return fee
}

// packageUse tracks each period's quota as entries are applied in order.
type packageUse struct {
	c       Contract
	used    map[time.Time]int64          // per period start: requests or minutes
	tickets map[time.Time]map[int64]bool // requests packages: tickets counted per period, and whether covered
}

func newPackageUse(c Contract) *packageUse {
	return &packageUse{c: c, used: map[time.Time]int64{}, tickets: map[time.Time]map[int64]bool{}}
}

// split divides an entry into free, package and billable minutes.
func (u *packageUse) split(e timeEntry) StatementLine {
	l := StatementLine{TicketID: e.ticketID, Title: e.title, SpentAt: e.at, Minutes: e.minutes, Note: e.note}
	if u.c.FreeUntil != nil && e.at.Before(*u.c.FreeUntil) {
		l.FreeMinutes = e.minutes
		return l
	}
	if start, _, ok := u.c.periodOf(e.at); ok {
		l.PackageMinutes = u.cover(start, e)
	}
	l.BillableMinutes = e.minutes - l.PackageMinutes
	l.Amount = (l.BillableMinutes*u.c.HourlyRate + 59) / 60
	return l
}

// cover takes what the period's quota covers of e.
func (u *packageUse) cover(start time.Time, e timeEntry) int64 {
	switch u.c.PackageKind {
	case "hours":
		left := u.c.PackageQuota*60 - u.used[start]
		take := min(max(left, 0), e.minutes)
		u.used[start] += take
		return take
	case "requests":
		seen := u.tickets[start]
		if seen == nil {
			seen = map[int64]bool{}
			u.tickets[start] = seen
		}
		covered, counted := seen[e.ticketID]
		if !counted {
			covered = u.used[start] < u.c.PackageQuota
			seen[e.ticketID] = covered
			if covered {
				u.used[start]++
			}
		}
		if covered {
			return e.minutes
		}
	}
	return 0
}

// balance is the use of the period holding t.
func (u *packageUse) balance(t time.Time) *Balance {
	if u.c.PackageKind == "none" {
		return nil
	}
	start, end, ok := u.c.periodOf(t)
	if !ok {
		return nil
	}
	quota := u.c.PackageQuota
	if u.c.PackageKind == "hours" {
		quota *= 60
	}
	used := u.used[start]
	return &Balance{PeriodStart: start.UTC(), PeriodEnd: end.UTC(), Kind: u.c.PackageKind, Quota: quota, Used: used, Left: max(quota-used, 0)}
}
