package order

import (
	"context"
	"fmt"
	"strings"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// MaxBulkShipments is the most orders one bulk shipment ships.
const MaxBulkShipments = 10_000

// BulkShipment is one row of a bulk shipment (a spreadsheet's row): the
// order by its number and how it ships. Line is the row's number in the
// file, for the errors.
type BulkShipment struct {
	Line    int
	OrderNo string
	ShipInput
}

// BulkShipResult says how many orders a bulk shipment shipped.
type BulkShipResult struct {
	Shipped int `json:"shipped"`
}

// bulkTarget is what the checks need of a row's order.
type bulkTarget struct {
	id             int64
	status         Status
	paid, refunded int64
}

// ShipMany ships many paid orders at once, all or nothing: every row is
// checked first (input, order number known in the shop, named once, order
// paid and not being fully refunded) and every bad row is reported with its
// line; only when all are good are they shipped, by the same path as Ship,
// in one transaction (a row that fails there, raced by a cancel or a
// refund, undoes them all and is reported).
func (s *Service) ShipMany(ctx context.Context, shopID int64, actor Actor, rows []BulkShipment) (BulkShipResult, error) {
	if len(rows) == 0 {
		return BulkShipResult{}, errs.E(errs.Invalid, "empty_sheet", "no rows to ship")
	}
	if len(rows) > MaxBulkShipments {
		return BulkShipResult{}, errs.E(errs.TooLarge, "too_many_rows", fmt.Sprintf("at most %d orders per bulk shipment", MaxBulkShipments))
	}
	targets, err := s.bulkTargets(ctx, shopID, rows)
	if err != nil {
		return BulkShipResult{}, err
	}
	if err := checkBulk(rows, targets); err != nil {
		return BulkShipResult{}, err
	}
	now := s.now()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, r := range rows {
			if err := s.shipInTx(ctx, tx, shopID, targets[r.OrderNo].id, actor, r.ShipInput, now); err != nil {
				return rowError(r.Line, err)
			}
		}
		return nil
	})
	if err != nil {
		return BulkShipResult{}, errs.Wrap("bulk ship", err)
	}
	return BulkShipResult{Shipped: len(rows)}, nil
}

// checkBulk normalizes every row's input and checks it against its order,
// collecting every error by line.
func checkBulk(rows []BulkShipment, targets map[string]*bulkTarget) error {
	var v errs.Validator
	seen := map[string]int{}
	for i := range rows {
		r := &rows[i]
		field := fmt.Sprintf("line %d", r.Line)
		r.OrderNo = strings.TrimSpace(r.OrderNo)
		if err := r.ShipInput.normalize(); err != nil {
			for f, m := range errs.As(err).Fields {
				v.Check(false, field, f+": "+m)
			}
		}
		if r.OrderNo == "" {
			v.Check(false, field, "order_no is empty")
			continue
		}
		if first, dup := seen[r.OrderNo]; dup {
			v.Check(false, field, fmt.Sprintf("order %s is also on line %d", r.OrderNo, first))
			continue
		}
		seen[r.OrderNo] = r.Line
		t := targets[r.OrderNo]
		switch {
		case t == nil:
			v.Check(false, field, "no order "+r.OrderNo+" in this shop")
		case t.status != Paid:
			v.Check(false, field, fmt.Sprintf("order %s is %s: only paid orders ship", r.OrderNo, t.status))
		case t.paid > 0 && t.refunded >= t.paid:
			v.Check(false, field, "order "+r.OrderNo+" is being refunded in full")
		}
	}
	return v.Err()
}

// bulkTargets loads the orders the rows name (by number, in the shop), in
// chunks, before any transaction.
func (s *Service) bulkTargets(ctx context.Context, shopID int64, rows []BulkShipment) (map[string]*bulkTarget, error) {
	out := map[string]*bulkTarget{}
	const chunk = 500
	for start := 0; start < len(rows); start += chunk {
		part := rows[start:min(start+chunk, len(rows))]
		args := []any{shopID}
		marks := make([]string, 0, len(part))
		for _, r := range part {
			args = append(args, strings.TrimSpace(r.OrderNo))
			marks = append(marks, "?")
		}
		list, err := db.All(ctx, s.db, func(row db.Scanner) (numbered, error) {
			var x numbered
			err := row.Scan(&x.t.id, &x.no, &x.t.status, &x.t.paid, &x.t.refunded)
			return x, err
		}, `SELECT id, order_no, status, paid_amount, refunded_amount FROM orders
			WHERE shop_id = ? AND order_no IN (`+strings.Join(marks, ", ")+`)`, args...)
		if err != nil {
			return nil, errs.Wrap("bulk ship orders", err)
		}
		for _, x := range list {
			t := x.t
			out[x.no] = &t
		}
	}
	return out, nil
}

type numbered struct {
	no string
	t  bulkTarget
}

// rowError names the line of a row that failed inside the transaction.
func rowError(line int, err error) error {
	e := errs.As(err)
	if e.Kind == errs.Internal {
		return err
	}
	key := fmt.Sprintf("line %d", line)
	return &errs.Error{Kind: e.Kind, Code: e.Code, Message: key + ": " + e.Message, Fields: map[string]string{key: e.Message}}
}
