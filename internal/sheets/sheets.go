// Package sheets is spreadsheets in and out: streamed XLSX exports of
// orders, refunds, members, products and commissions with the filters of
// their list routes, and all-or-nothing XLSX imports of products and
// shipments. Exports only read (every query scoped by shop_id, rows read in
// keyset pages and written as they come); imports hand their rows to the
// packages that own the data (catalog's import, order's shipping), through
// the small interfaces below.
package sheets

import (
	"context"
	"time"

	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
)

// Catalog is what sheets needs of the catalog: its product list (the
// export uses the list route's own filters) and its import.
type Catalog interface {
	List(ctx context.Context, shopID int64, q catalog.ListQuery) (catalog.Page, error)
	ImportRecords(ctx context.Context, shopID int64, header []string, rows []catalog.Record) (catalog.ImportResult, error)
}

// Shipper ships orders in bulk (order.Service).
type Shipper interface {
	ShipMany(ctx context.Context, shopID int64, actor order.Actor, rows []order.BulkShipment) (order.BulkShipResult, error)
}

// Service builds exports and runs imports.
type Service struct {
	db      *db.DB
	catalog Catalog
	orders  Shipper
	now     func() time.Time
	// PageSize is how many rows an export reads per query.
	PageSize int
}

// NewService returns a Service on d.
func NewService(d *db.DB, c Catalog, o Shipper) *Service {
	return &Service{db: d, catalog: c, orders: o, now: time.Now, PageSize: 1000}
}

// Options are what every export takes besides its filters.
type Options struct {
	Lang   string // "zh" (default) or "en": the header row's language
	Unmask bool   // show phone numbers whole (owner, finance, operator)
}

// Range is a created-at window: [From, To), zero = open.
type Range struct{ From, To time.Time }

// where adds the range to a WHERE clause on col.
func (r Range) where(col string, where []string, args []any) ([]string, []any) {
	if !r.From.IsZero() {
		where, args = append(where, col+" >= ?"), append(args, r.From.UnixMilli())
	}
	if !r.To.IsZero() {
		where, args = append(where, col+" < ?"), append(args, r.To.UnixMilli())
	}
	return where, args
}
