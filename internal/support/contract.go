package support

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/platform/chinaday"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Contract is a shop's maintenance contract with its provider: a free
// period, then a package per period and an hourly rate beyond it.
type Contract struct {
	FreeUntil       *time.Time `json:"free_until" doc:"end of the free maintenance period (work before it is free); null: none"`
	PackageKind     string     `json:"package_kind" enum:"none,requests,hours" doc:"requests: N tickets worked on per period; hours: N hours per period"`
	PackagePeriod   string     `json:"package_period" enum:"month,quarter,year"`
	PackageQuota    int64      `json:"package_quota" doc:"requests or hours included per period"`
	PackagePrice    int64      `json:"package_price" doc:"fen per period"`
	PackageStartsAt time.Time  `json:"package_starts_at" doc:"the first period's start; the next ones follow it"`
	HourlyRate      int64      `json:"hourly_rate" doc:"fen per hour of work beyond the free period and the package"`
}

var errNoContract = errs.E(errs.NotFound, "no_contract", "the shop has no maintenance contract yet")

func (c Contract) check() error {
	switch {
	case !slices.Contains([]string{"none", "requests", "hours"}, c.PackageKind):
		return errs.Field("package_kind", "invalid_package", "package_kind is none, requests or hours")
	case !slices.Contains([]string{"month", "quarter", "year"}, c.PackagePeriod):
		return errs.Field("package_period", "invalid_package", "package_period is month, quarter or year")
	case c.PackageQuota < 0 || c.PackageQuota > 100000 || c.PackagePrice < 0 || c.HourlyRate < 0 || c.PackagePrice > 1e12 || c.HourlyRate > 1e10:
		return errs.Field("package_quota", "invalid_package", "quota, price and hourly rate are not negative (and not absurd)")
	case c.PackageKind != "none" && c.PackageStartsAt.IsZero():
		return errs.Field("package_starts_at", "invalid_package", "a package needs the start of its first period")
	}
	return nil
}

// SetContract replaces the shop's contract (the provider).
func (s *Service) SetContract(ctx context.Context, shopID, by int64, c Contract) (Contract, error) {
	if err := c.check(); err != nil {
		return Contract{}, err
	}
	var free int64
	if c.FreeUntil != nil {
		free = c.FreeUntil.UnixMilli()
	}
	_, err := s.db.Exec(ctx, `INSERT INTO support_contracts (shop_id, free_until, package_kind, package_period, package_quota, package_price,
		package_starts_at, hourly_rate, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (shop_id) DO UPDATE SET free_until = excluded.free_until, package_kind = excluded.package_kind,
		package_period = excluded.package_period, package_quota = excluded.package_quota, package_price = excluded.package_price,
		package_starts_at = excluded.package_starts_at, hourly_rate = excluded.hourly_rate, updated_by = excluded.updated_by,
		updated_at = excluded.updated_at`, shopID, free, c.PackageKind, c.PackagePeriod, c.PackageQuota, c.PackagePrice,
		c.PackageStartsAt.UnixMilli(), c.HourlyRate, by, s.now().UnixMilli())
	if err != nil {
		return Contract{}, err
	}
	return s.Contract(ctx, shopID)
}

// Contract returns the shop's contract.
func (s *Service) Contract(ctx context.Context, shopID int64) (Contract, error) {
	var c Contract
	var free, starts int64
	err := s.db.QueryRow(ctx, `SELECT free_until, package_kind, package_period, package_quota, package_price, package_starts_at, hourly_rate
		FROM support_contracts WHERE shop_id = ?`, shopID).Scan(&free, &c.PackageKind, &c.PackagePeriod, &c.PackageQuota, &c.PackagePrice, &starts, &c.HourlyRate)
	if db.IsNoRows(err) {
		return c, errNoContract
	}
	if free > 0 {
		f := ms(free)
		c.FreeUntil = &f
	}
	c.PackageStartsAt = ms(starts)
	return c, err
}

// SetEstimate gives a change request its estimate (the provider); a new
// estimate needs the shop's approval again.
func (s *Service) SetEstimate(ctx context.Context, shopID, ticketID int64, minutes int64) (Ticket, error) {
	if minutes <= 0 || minutes > 100000 {
		return Ticket{}, errs.Field("minutes", "invalid_estimate", "an estimate of 1 to 100,000 minutes")
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		t, _, err := s.forUpdate(ctx, tx, shopID, ticketID)
		switch {
		case err != nil:
			return err
		case t.Kind != "change":
			return errs.E(errs.Conflict, "not_a_change_request", "only a change request takes an estimate")
		case t.Status == "closed" || t.Status == "resolved":
			return errTransition
		}
		return db.ExpectOne(tx.Exec(ctx, `UPDATE tickets SET estimate_minutes = ?, estimate_approved_at = NULL, updated_at = ? WHERE id = ? AND shop_id = ?`,
			minutes, s.now().UnixMilli(), ticketID, shopID))
	})
	if err != nil {
		return Ticket{}, err
	}
	return s.Get(ctx, shopID, ticketID)
}

// ApproveEstimate is the shop's go-ahead for a change request's estimate.
func (s *Service) ApproveEstimate(ctx context.Context, shopID, ticketID int64) (Ticket, error) {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		t, _, err := s.forUpdate(ctx, tx, shopID, ticketID)
		switch {
		case err != nil:
			return err
		case t.EstimateMinutes == nil:
			return errs.E(errs.Conflict, "no_estimate", "the provider has not given an estimate yet")
		case t.EstimateApprovedAt != nil:
			return errTransition
		}
		return db.ExpectOne(tx.Exec(ctx, `UPDATE tickets SET estimate_approved_at = ?, updated_at = ? WHERE id = ? AND shop_id = ? AND estimate_approved_at IS NULL`,
			s.now().UnixMilli(), s.now().UnixMilli(), ticketID, shopID))
	})
	if err != nil {
		return Ticket{}, err
	}
	return s.Get(ctx, shopID, ticketID)
}

// TimeInput is time the provider spent on a ticket.
type TimeInput struct {
	Minutes int64      `json:"minutes" doc:"1 to 1,440"`
	Note    string     `json:"note,omitempty"`
	SpentAt *time.Time `json:"spent_at,omitempty" doc:"when the work was done (default now; not in the future)"`
}

// LogTime records time spent on a ticket (the provider). A change request
// takes time only once its estimate is approved.
func (s *Service) LogTime(ctx context.Context, shopID, ticketID, by int64, in TimeInput) (Ticket, error) {
	in.Note = strings.TrimSpace(in.Note)
	now := s.now()
	at := now
	if in.SpentAt != nil {
		at = *in.SpentAt
	}
	switch {
	case in.Minutes <= 0 || in.Minutes > 1440:
		return Ticket{}, errs.Field("minutes", "invalid_minutes", "1 to 1,440 minutes per entry")
	case utf8.RuneCountInString(in.Note) > 500:
		return Ticket{}, errs.Field("note", "invalid_note", "at most 500 characters")
	case at.After(now) || at.Before(now.AddDate(-1, 0, 0)):
		return Ticket{}, errs.Field("spent_at", "invalid_spent_at", "not in the future, nor more than a year ago")
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		t, _, err := s.forUpdate(ctx, tx, shopID, ticketID)
		switch {
		case err != nil:
			return err
		case t.Kind == "change" && t.EstimateApprovedAt == nil:
			return errNotApproved
		}
		_, err = tx.Exec(ctx, `INSERT INTO ticket_time (shop_id, ticket_id, minutes, note, spent_by, spent_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			shopID, ticketID, in.Minutes, in.Note, by, at.UnixMilli(), now.UnixMilli())
		return err
	})
	if err != nil {
		return Ticket{}, err
	}
	return s.Get(ctx, shopID, ticketID)
}

// periodMonths is the length of a package period.
func periodMonths(p string) int {
	switch p {
	case "quarter":
		return 3
	case "year":
		return 12
	}
	return 1
}

// periodOf returns the package period holding t ([start, end)), or false
// before the first one.
func (c Contract) periodOf(t time.Time) (time.Time, time.Time, bool) {
	start := c.PackageStartsAt.In(chinaday.Zone)
	if t.Before(start) {
		return time.Time{}, time.Time{}, false
	}
	step := periodMonths(c.PackagePeriod)
	tt := t.In(chinaday.Zone)
	n := ((tt.Year()-start.Year())*12 + int(tt.Month()) - int(start.Month())) / step
	from := start.AddDate(0, n*step, 0)
	for from.After(t) {
		n--
		from = start.AddDate(0, n*step, 0)
	}
	return from, start.AddDate(0, (n+1)*step, 0), true
}
