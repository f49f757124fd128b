package order

import (
	"context"
	"database/sql"
	"regexp"
	"strings"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Invoice is the VAT invoice a buyer asked for on an order.
type Invoice struct {
	TitleType string `json:"title_type" enum:"personal,company" doc:"personal or company"`
	Title     string `json:"title" doc:"the person's name or the company's registered name"`
	TaxID     string `json:"tax_id,omitempty" doc:"the company's taxpayer id (统一社会信用代码), required for company titles"`
	Email     string `json:"email,omitempty" doc:"where to send the electronic invoice"`
	Status    string `json:"status" enum:"requested,issued" doc:"requested or issued"`
	InvoiceNo string `json:"invoice_no,omitempty"`
}

// InvoiceRequest is what a buyer sends.
type InvoiceRequest struct {
	TitleType string `json:"title_type" enum:"personal,company"`
	Title     string `json:"title"`
	TaxID     string `json:"tax_id"`
	Email     string `json:"email"`
}

// IssueInput is what staff record when the invoice is issued.
type IssueInput struct {
	InvoiceNo string `json:"invoice_no"`
}

var (
	taxIDPattern = regexp.MustCompile(`^[0-9A-Z]{15,20}$`)
	emailPattern = regexp.MustCompile(`^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$`)
)

func (in *InvoiceRequest) validate() error {
	in.Title, in.TaxID, in.Email = strings.TrimSpace(in.Title), strings.ToUpper(strings.TrimSpace(in.TaxID)), strings.TrimSpace(in.Email)
	var v errs.Validator
	v.Check(in.TitleType == "personal" || in.TitleType == "company", "title_type", "must be personal or company")
	v.Check(runes(in.Title) >= 1 && runes(in.Title) <= 100, "title", "must be 1 to 100 characters")
	v.Check(in.TitleType != "company" || taxIDPattern.MatchString(in.TaxID), "tax_id", "a company title needs its 15 to 20 character taxpayer id")
	v.Check(in.Email == "" || (len(in.Email) <= 120 && emailPattern.MatchString(in.Email)), "email", "must be an email address")
	return v.Err()
}

// RequestInvoice records or changes the buyer's invoice title, until the
// invoice is issued. Cancelled and fully refunded orders get none.
func (s *Service) RequestInvoice(ctx context.Context, shopID, orderID, memberID int64, in InvoiceRequest) error {
	if err := in.validate(); err != nil {
		return err
	}
	if in.TitleType == "personal" {
		in.TaxID = ""
	}
	now := s.now().UnixMilli()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		st, err := statusOf(ctx, tx, shopID, orderID, memberID)
		if err != nil {
			return err
		}
		if st == Cancelled || st == Refunded {
			return errs.E(errs.Conflict, "order_not_invoiceable", "a cancelled or refunded order has no invoice")
		}
		res, err := tx.Exec(ctx, `INSERT INTO order_invoices (shop_id, order_id, title_type, title, tax_id, email, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (order_id) DO UPDATE SET title_type = excluded.title_type, title = excluded.title,
				tax_id = excluded.tax_id, email = excluded.email, updated_at = excluded.updated_at
			WHERE order_invoices.status = 'requested'`, shopID, orderID, in.TitleType, in.Title, in.TaxID, in.Email, now, now)
		return invoiceChanged(res, err)
	})
	return errs.Wrap("request invoice", err)
}

func invoiceChanged(res sql.Result, err error) error {
	if err := db.ExpectOne(res, err); db.IsNoRows(err) {
		return errs.E(errs.Conflict, "invoice_issued", "the invoice was issued already")
	} else {
		return err
	}
}

// IssueInvoice records that staff issued the requested invoice of a paid
// order, with its number, on the invoice and in the order's log.
func (s *Service) IssueInvoice(ctx context.Context, shopID, orderID int64, actor Actor, staffID int64, in IssueInput) error {
	in.InvoiceNo = strings.TrimSpace(in.InvoiceNo)
	if len(in.InvoiceNo) < 8 || len(in.InvoiceNo) > 30 {
		return errs.Field("invoice_no", "invalid_invoice_no", "must be the 8 to 30 character invoice number")
	}
	now := s.now()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		st, err := statusOf(ctx, tx, shopID, orderID, 0)
		if err != nil {
			return err
		}
		if st != Paid && st != Shipped && st != Completed {
			return errs.E(errs.Conflict, "order_not_invoiceable", "only a paid order gets its invoice")
		}
		err = db.ExpectOne(tx.Exec(ctx, `UPDATE order_invoices SET status = 'issued', invoice_no = ?, issued_by = ?, issued_at = ?, updated_at = ?
			WHERE order_id = ? AND shop_id = ? AND status = 'requested'`, in.InvoiceNo, staffID, now.UnixMilli(), now.UnixMilli(), orderID, shopID))
		if db.IsNoRows(err) {
			return errs.E(errs.Conflict, "no_invoice_requested", "the buyer has not asked for an invoice, or it was issued")
		}
		if err != nil {
			return err
		}
		return logEvent(ctx, tx, shopID, orderID, actor, st, st, "invoice "+in.InvoiceNo+" issued", now)
	})
	return errs.Wrap("issue invoice", err)
}

// invoice returns the order's invoice, or nil.
func (s *Service) invoice(ctx context.Context, shopID, orderID int64) (*Invoice, error) {
	var inv Invoice
	err := s.db.QueryRow(ctx, `SELECT title_type, title, tax_id, email, status, invoice_no FROM order_invoices
		WHERE order_id = ? AND shop_id = ?`, orderID, shopID).Scan(&inv.TitleType, &inv.Title, &inv.TaxID, &inv.Email, &inv.Status, &inv.InvoiceNo)
	if db.IsNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, errs.Wrap("invoice", err)
	}
	return &inv, nil
}

// TaxIncluded is the VAT inside a tax-inclusive amount at rate (basis
// points), rounded half up to the fen: amount × rate / (10000 + rate).
func TaxIncluded(amount, rate int64) int64 {
	den := 10000 + rate
	return (2*amount*rate + den) / (2 * den)
}

// addTax fills the tax of every line and the order's total tax.
func addTax(o *Order) {
	o.TaxAmount = 0
	for i := range o.Lines {
		o.Lines[i].TaxAmount = TaxIncluded(o.Lines[i].Amount-o.Lines[i].Discount, o.Lines[i].TaxRate)
		o.TaxAmount += o.Lines[i].TaxAmount
	}
}
