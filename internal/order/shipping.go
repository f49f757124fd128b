package order

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// DeliveryType is how an order reaches its buyer.
type DeliveryType string

// Delivery types (WeChat's logistics types 1–4).
const (
	Express  DeliveryType = "express"   // a carrier with a tracking number
	SameCity DeliveryType = "same_city" // local delivery; carrier and tracking number optional
	Virtual  DeliveryType = "virtual"   // nothing physical is sent
	Pickup   DeliveryType = "pickup"    // the buyer collects it
)

// EnumValues lists the delivery types for /openapi.json.
func (DeliveryType) EnumValues() []string {
	return []string{string(Express), string(SameCity), string(Virtual), string(Pickup)}
}

// ShipInput is what staff record when they ship.
type ShipInput struct {
	DeliveryType DeliveryType `json:"delivery_type,omitempty" doc:"express (default), same_city, virtual or pickup"`
	Carrier      string       `json:"carrier" doc:"required for express: a carrier name or WeChat delivery code (顺丰 or SF); with parcels, the first package's (may be left out)"`
	TrackingNo   string       `json:"tracking_no" doc:"required for express; with parcels, the first package's (may be left out)"`
	Parcels      []Parcel     `json:"parcels,omitempty" doc:"express only: the order split into 2 to 15 packages, each with its carrier, tracking number and the lines it holds; every unit of every line in exactly one package"`
}

// Parcel is one package of an express shipment.
type Parcel struct {
	Carrier    string       `json:"carrier"`
	TrackingNo string       `json:"tracking_no"`
	Lines      []ParcelLine `json:"lines" doc:"the order lines in this package and how many of each"`
}

// ParcelLine is a number of units of an order line in a package.
type ParcelLine struct {
	LineID   int64 `json:"line_id"`
	Quantity int64 `json:"quantity"`
}

// MaxParcels is the most packages one order ships in (WeChat's limit for
// a split delivery).
const MaxParcels = 15

// normalize trims and checks the input: express needs a carrier and a
// tracking number; the other types take them only if given.
func (in *ShipInput) normalize() error {
	in.Carrier, in.TrackingNo = strings.TrimSpace(in.Carrier), strings.TrimSpace(in.TrackingNo)
	if in.DeliveryType == "" {
		in.DeliveryType = Express
	}
	var v errs.Validator
	switch in.DeliveryType {
	case Express, SameCity, Virtual, Pickup:
	default:
		v.Check(false, "delivery_type", "must be express, same_city, virtual or pickup")
	}
	if len(in.Parcels) > 0 {
		return in.normalizeParcels(&v)
	}
	required := in.DeliveryType == Express
	if required || in.Carrier != "" {
		v.Check(runes(in.Carrier) >= 1 && runes(in.Carrier) <= 30, "carrier", "must be 1 to 30 characters")
	}
	if required || in.TrackingNo != "" {
		v.Check(len(in.TrackingNo) >= 4 && len(in.TrackingNo) <= 40, "tracking_no", "must be 4 to 40 characters")
	}
	return v.Err()
}

// normalizeParcels checks a split shipment's packages: express only, 2 to
// MaxParcels, each with a carrier, a tracking number of its own and lines.
// Whether the lines cover the order is checked against it (recordParcels).
func (in *ShipInput) normalizeParcels(v *errs.Validator) error {
	v.Check(in.DeliveryType == Express, "parcels", "only an express shipment is split into packages")
	v.Check(len(in.Parcels) >= 2 && len(in.Parcels) <= MaxParcels, "parcels", "2 to 15 packages (one package: leave parcels out)")
	seen := map[string]bool{}
	for i := range in.Parcels {
		p := &in.Parcels[i]
		field := fmt.Sprintf("parcels[%d]", i)
		p.Carrier, p.TrackingNo = strings.TrimSpace(p.Carrier), strings.TrimSpace(p.TrackingNo)
		v.Check(runes(p.Carrier) >= 1 && runes(p.Carrier) <= 30, field+".carrier", "must be 1 to 30 characters")
		v.Check(len(p.TrackingNo) >= 4 && len(p.TrackingNo) <= 40 && !seen[p.TrackingNo], field+".tracking_no", "must be 4 to 40 characters, one per package")
		seen[p.TrackingNo] = true
		v.Check(len(p.Lines) >= 1 && len(p.Lines) <= 100, field+".lines", "must name 1 to 100 order lines")
		for _, l := range p.Lines {
			v.Check(l.LineID > 0 && l.Quantity > 0, field+".lines", "each needs a line_id and a quantity above 0")
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	in.Carrier, in.TrackingNo = in.Parcels[0].Carrier, in.Parcels[0].TrackingNo
	return nil
}

var errParcelsMismatch = errs.E(errs.Invalid, "parcels_mismatch",
	"the packages must hold every unit of every line of the order exactly once")

// recordParcels stores an express shipment's packages (one holding every
// line when it is not split), after checking that they hold the order's
// lines exactly, and returns them.
func recordParcels(ctx context.Context, tx *db.Tx, shopID, orderID int64, in ShipInput, now time.Time) ([]Parcel, error) {
	if in.DeliveryType != Express {
		return nil, nil
	}
	qty, err := lineQuantitiesByID(ctx, tx, shopID, orderID)
	if err != nil {
		return nil, err
	}
	parcels := in.Parcels
	if len(parcels) == 0 {
		whole := Parcel{Carrier: in.Carrier, TrackingNo: in.TrackingNo}
		for id, q := range qty {
			whole.Lines = append(whole.Lines, ParcelLine{LineID: id, Quantity: q})
		}
		sort.Slice(whole.Lines, func(i, j int) bool { return whole.Lines[i].LineID < whole.Lines[j].LineID })
		parcels = []Parcel{whole}
	} else if !coversExactly(parcels, qty) {
		return nil, errParcelsMismatch
	}
	for _, p := range parcels {
		lines, _ := json.Marshal(p.Lines)
		if _, err := tx.Exec(ctx, `INSERT INTO order_parcels (shop_id, order_id, carrier, tracking_no, lines, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, shopID, orderID, p.Carrier, p.TrackingNo, string(lines), now.UnixMilli()); err != nil {
			return nil, err
		}
	}
	return parcels, nil
}

// coversExactly reports whether the packages hold qty (units per line id)
// exactly: no unknown line, no unit missing or twice.
func coversExactly(parcels []Parcel, qty map[int64]int64) bool {
	packed := map[int64]int64{}
	for _, p := range parcels {
		for _, l := range p.Lines {
			if _, ok := qty[l.LineID]; !ok {
				return false
			}
			packed[l.LineID] += l.Quantity
		}
	}
	for id, q := range qty {
		if packed[id] != q {
			return false
		}
	}
	return true
}

func lineQuantitiesByID(ctx context.Context, tx *db.Tx, shopID, orderID int64) (map[int64]int64, error) {
	rows, err := tx.Query(ctx, `SELECT id, quantity FROM order_lines WHERE order_id = ? AND shop_id = ?`, orderID, shopID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var id, q int64
		if err := rows.Scan(&id, &q); err != nil {
			return nil, err
		}
		out[id] = q
	}
	return out, rows.Err()
}

// parcelsOf reads an order's packages.
func parcelsOf(ctx context.Context, q db.Querier, shopID, orderID int64) ([]Parcel, error) {
	rows, err := q.Query(ctx, `SELECT carrier, tracking_no, lines FROM order_parcels WHERE order_id = ? AND shop_id = ? ORDER BY id`, orderID, shopID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Parcel{}
	for rows.Next() {
		var p Parcel
		var lines string
		if err := rows.Scan(&p.Carrier, &p.TrackingNo, &lines); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(lines), &p.Lines); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// reason is the event log's line for the shipment.
func (in ShipInput) reason() string {
	switch in.DeliveryType {
	case Virtual:
		return "delivered (virtual goods)"
	case Pickup:
		return "handed over for self-pickup"
	case SameCity:
		return strings.TrimSpace("delivered in the city " + in.Carrier)
	}
	if len(in.Parcels) > 1 {
		return fmt.Sprintf("shipped in %d packages", len(in.Parcels))
	}
	return "shipped with " + in.Carrier
}

// Shipment is a shipped order as the OnShipped hooks see it.
type Shipment struct {
	ShopID, OrderID int64
	ShipInput
	Packages      []Parcel // an express shipment's packages (one when not split)
	TransactionID string   // WeChat Pay's; empty if the order was not paid with WeChat Pay
	ShippedAt     time.Time
}

// OnShipped adds what runs in the ship transaction after the order became
// shipped (the shipping info upload to WeChat and the parcel's tracking
// are enqueued there); an error undoes the shipment.
func (s *Service) OnShipped(fn func(ctx context.Context, tx *db.Tx, sh Shipment) error) {
	s.onShipped = append(s.onShipped, fn)
}

// shipped runs the OnShipped hooks in tx.
func (s *Service) shipped(ctx context.Context, tx *db.Tx, shopID, orderID int64, in ShipInput, now time.Time) error {
	packages, err := recordParcels(ctx, tx, shopID, orderID, in, now)
	if err != nil || len(s.onShipped) == 0 {
		return err
	}
	var transactionID string
	err = tx.QueryRow(ctx, `SELECT transaction_id FROM orders WHERE id = ? AND shop_id = ?`, orderID, shopID).Scan(&transactionID)
	if err != nil {
		return err
	}
	sh := Shipment{ShopID: shopID, OrderID: orderID, ShipInput: in, Packages: packages, TransactionID: transactionID, ShippedAt: now}
	for _, fn := range s.onShipped {
		if err := fn(ctx, tx, sh); err != nil {
			return err
		}
	}
	return nil
}
