// Package costs is a shop's yearly cost ledger: the recurring items it
// pays for (WeChat certification, domain, TLS certificate, server, SMS,
// maps, content checks, storage, maintenance, licences) with their cost,
// supplier, next due day and who renews them; reminders 30, 7 and 1 days
// before; the usage kaidian itself meters (SMS sent, images checked,
// storage used); and the year's report.
package costs

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/platform/chinaday"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
)

// Service keeps the ledger.
type Service struct {
	db  *db.DB
	now func() time.Time
}

// NewService returns the ledger on d.
func NewService(d *db.DB) *Service { return &Service{db: d, now: time.Now} }

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Item is one recurring cost.
type Item struct {
	ID          int64  `json:"id"`
	Kind        string `json:"kind" enum:"certification,domain,tls,server,sms,maps,content_check,storage,maintenance,licence,other"`
	Name        string `json:"name" doc:"e.g. 微信认证, 域名 shop.example.com, ICP 备案, 网络文化经营许可证"`
	Supplier    string `json:"supplier"`
	Cost        int64  `json:"cost" doc:"fen per renewal"`
	Renews      string `json:"renews" enum:"yearly,monthly,once"`
	DueOn       string `json:"due_on" doc:"the next day it must be renewed by (YYYY-MM-DD, Asia/Shanghai)"`
	Responsible string `json:"responsible" doc:"who must renew it"`
	Notes       string `json:"notes"`
	DaysLeft    int64  `json:"days_left" doc:"days from today to due_on (negative: overdue)"`
}

var (
	kinds       = []string{"certification", "domain", "tls", "server", "sms", "maps", "content_check", "storage", "maintenance", "licence", "other"}
	errNotFound = errs.E(errs.NotFound, "cost_item_not_found", "no such cost item in this shop")
)

func (it *Item) check() error {
	it.Name, it.Supplier, it.Responsible, it.Notes = strings.TrimSpace(it.Name), strings.TrimSpace(it.Supplier), strings.TrimSpace(it.Responsible), strings.TrimSpace(it.Notes)
	_, dayOK := chinaday.Parse(it.DueOn)
	switch {
	case !slices.Contains(kinds, it.Kind):
		return errs.Field("kind", "invalid_kind", "kind is one of "+strings.Join(kinds, ", "))
	case it.Name == "" || utf8.RuneCountInString(it.Name) > 100:
		return errs.Field("name", "invalid_name", "a name of 1 to 100 characters")
	case utf8.RuneCountInString(it.Supplier) > 100 || utf8.RuneCountInString(it.Responsible) > 100 || utf8.RuneCountInString(it.Notes) > 1000:
		return errs.Field("notes", "too_long", "supplier and responsible at most 100 characters, notes 1,000")
	case it.Cost < 0 || it.Cost > 1e12:
		return errs.Field("cost", "invalid_cost", "a cost in fen, not negative")
	case !slices.Contains([]string{"yearly", "monthly", "once"}, it.Renews):
		return errs.Field("renews", "invalid_renews", "renews is yearly, monthly or once")
	case !dayOK:
		return errs.Field("due_on", "invalid_day", "due_on is a day, YYYY-MM-DD")
	}
	return nil
}

const columns = `id, kind, name, supplier, cost, renews, due_on, responsible, notes`

func (s *Service) scan(r db.Scanner) (Item, error) {
	var it Item
	err := r.Scan(&it.ID, &it.Kind, &it.Name, &it.Supplier, &it.Cost, &it.Renews, &it.DueOn, &it.Responsible, &it.Notes)
	if d, ok := chinaday.Parse(it.DueOn); ok {
		it.DaysLeft = int64(d - chinaday.Of(s.now()))
	}
	return it, err
}

// MaxItems bounds a shop's ledger (its list is answered whole).
const MaxItems = 200

// List returns the shop's items, soonest due first.
func (s *Service) List(ctx context.Context, shopID int64) ([]Item, error) {
	items, err := db.All(ctx, s.db, s.scan, `SELECT `+columns+` FROM cost_items WHERE shop_id = ? ORDER BY due_on, id`, shopID)
	if items == nil {
		items = []Item{}
	}
	return items, err
}

// Get returns one item of the shop.
func (s *Service) Get(ctx context.Context, shopID, id int64) (Item, error) {
	it, err := s.scan(s.db.QueryRow(ctx, `SELECT `+columns+` FROM cost_items WHERE id = ? AND shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return it, errNotFound
	}
	return it, err
}

// Create adds an item.
func (s *Service) Create(ctx context.Context, shopID int64, it Item) (Item, error) {
	if err := it.check(); err != nil {
		return Item{}, err
	}
	var n int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM cost_items WHERE shop_id = ?`, shopID).Scan(&n); err != nil {
		return Item{}, err
	}
	if n >= MaxItems {
		return Item{}, errs.E(errs.Conflict, "too_many_items", fmt.Sprintf("a shop keeps at most %d cost items", MaxItems))
	}
	now := s.now().UnixMilli()
	var id int64
	err := s.db.QueryRow(ctx, `INSERT INTO cost_items (shop_id, kind, name, supplier, cost, renews, due_on, responsible, notes, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, shopID, it.Kind, it.Name, it.Supplier, it.Cost, it.Renews, it.DueOn,
		it.Responsible, it.Notes, now, now).Scan(&id)
	if err != nil {
		return Item{}, err
	}
	return s.Get(ctx, shopID, id)
}

// Update replaces an item (a new due day restarts its reminders).
func (s *Service) Update(ctx context.Context, shopID, id int64, it Item) (Item, error) {
	if err := it.check(); err != nil {
		return Item{}, err
	}
	err := db.ExpectOne(s.db.Exec(ctx, `UPDATE cost_items SET kind = ?, name = ?, supplier = ?, cost = ?, renews = ?,
		reminded = CASE WHEN due_on = ? THEN reminded ELSE '' END, due_on = ?, responsible = ?, notes = ?, updated_at = ?
		WHERE id = ? AND shop_id = ?`, it.Kind, it.Name, it.Supplier, it.Cost, it.Renews, it.DueOn, it.DueOn, it.Responsible, it.Notes,
		s.now().UnixMilli(), id, shopID))
	if db.IsNoRows(err) {
		return Item{}, errNotFound
	}
	if err != nil {
		return Item{}, err
	}
	return s.Get(ctx, shopID, id)
}

// Delete removes an item.
func (s *Service) Delete(ctx context.Context, shopID, id int64) error {
	err := db.ExpectOne(s.db.Exec(ctx, `DELETE FROM cost_items WHERE id = ? AND shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return errNotFound
	}
	return err
}

// Renewed records a renewal: the due day moves a year or a month on (an
// item renewed once cannot be).
func (s *Service) Renewed(ctx context.Context, shopID, id int64) (Item, error) {
	it, err := s.Get(ctx, shopID, id)
	if err != nil {
		return it, err
	}
	d, _ := chinaday.Parse(it.DueOn)
	next := d.Date()
	switch it.Renews {
	case "yearly":
		next = next.AddDate(1, 0, 0)
	case "monthly":
		next = next.AddDate(0, 1, 0)
	default:
		return it, errs.E(errs.Conflict, "not_renewable", "a one-off cost is not renewed")
	}
	err = db.ExpectOne(s.db.Exec(ctx, `UPDATE cost_items SET due_on = ?, reminded = '', updated_at = ? WHERE id = ? AND shop_id = ? AND due_on = ?`,
		chinaday.Of(next).String(), s.now().UnixMilli(), id, shopID, it.DueOn))
	if db.IsNoRows(err) {
		return it, errs.E(errs.Conflict, "changed", "the item changed meanwhile; reload")
	}
	if err != nil {
		return it, err
	}
	return s.Get(ctx, shopID, id)
}

// RemindKind is the daily job that reminds of items falling due.
const RemindKind = "costs.remind"

// reminders are sent this many days before the due day.
var reminders = []struct {
	days int64
	mark string
}{{1, "d1"}, {7, "d7"}, {30, "d30"}}

// reached is the nearest reminder an item due in left days has reached,
// and the marks it leaves: that one and every earlier one (an item
// entered 5 days before its due day gets the 7-day reminder only).
func reached(left int64) (string, string) {
	for i, r := range reminders {
		if left <= r.days {
			var marks []string
			for _, later := range reminders[i:] {
				marks = append(marks, later.mark)
			}
			return r.mark, strings.Join(marks, ",")
		}
	}
	return "", ""
}

// RegisterJobs reminds, twice a day, of items due in 30, 7 or 1 days: a
// warn log line ("cost item due") for the responsible person until alerts
// go to the provider's channels.
func (s *Service) RegisterJobs(q *jobs.Queue, log *slog.Logger) {
	q.Every(RemindKind, 12*time.Hour, func(ctx context.Context, _ jobs.Job) error {
		_, err := s.Remind(ctx, log)
		return err
	})
}

// Remind sends the reminders due today and returns how many it sent: for
// each item, the nearest threshold it has reached and not yet been
// reminded at (one message, not three, for an item entered late).
func (s *Service) Remind(ctx context.Context, log *slog.Logger) (int, error) {
	today := chinaday.Of(s.now())
	type row struct {
		id, shop      int64
		due, reminded string
		name, resp    string
	}
	rows, err := db.All(ctx, s.db, func(r db.Scanner) (row, error) {
		var x row
		return x, r.Scan(&x.id, &x.shop, &x.due, &x.reminded, &x.name, &x.resp)
	}, `SELECT id, shop_id, due_on, reminded, name, responsible FROM cost_items WHERE due_on >= ? AND due_on <= ? ORDER BY id`,
		today.String(), (today + 30).String())
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, x := range rows {
		d, _ := chinaday.Parse(x.due)
		left := int64(d - today)
		mark, marks := reached(left)
		if mark == "" || strings.Contains(x.reminded, mark) {
			continue
		}
		res, err := s.db.Exec(ctx, `UPDATE cost_items SET reminded = ? WHERE id = ? AND reminded = ?`, marks, x.id, x.reminded)
		if err != nil {
			return sent, err
		}
		if n, _ := res.RowsAffected(); n == 1 { // another process may have sent it
			log.Warn("cost item due", "shop", x.shop, "item", x.id, "name", x.name, "due_on", x.due, "days_left", left, "responsible", x.resp)
			sent++
		}
	}
	return sent, nil
}
