package order

import (
	"context"
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
	Carrier      string       `json:"carrier" doc:"required for express: a carrier name or WeChat delivery code (顺丰 or SF)"`
	TrackingNo   string       `json:"tracking_no" doc:"required for express"`
}

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
	required := in.DeliveryType == Express
	if required || in.Carrier != "" {
		v.Check(runes(in.Carrier) >= 1 && runes(in.Carrier) <= 30, "carrier", "must be 1 to 30 characters")
	}
	if required || in.TrackingNo != "" {
		v.Check(len(in.TrackingNo) >= 4 && len(in.TrackingNo) <= 40, "tracking_no", "must be 4 to 40 characters")
	}
	return v.Err()
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
	return "shipped with " + in.Carrier
}

// Shipment is a shipped order as the OnShipped hook sees it.
type Shipment struct {
	ShopID, OrderID int64
	ShipInput
	TransactionID string // WeChat Pay's; empty if the order was not paid with WeChat Pay
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
	if len(s.onShipped) == 0 {
		return nil
	}
	var transactionID string
	err := tx.QueryRow(ctx, `SELECT transaction_id FROM orders WHERE id = ? AND shop_id = ?`, orderID, shopID).Scan(&transactionID)
	if err != nil {
		return err
	}
	sh := Shipment{ShopID: shopID, OrderID: orderID, ShipInput: in, TransactionID: transactionID, ShippedAt: now}
	for _, fn := range s.onShipped {
		if err := fn(ctx, tx, sh); err != nil {
			return err
		}
	}
	return nil
}
