package catalog

import (
	"context"
	"fmt"

	"github.com/kaidian/kaidian/internal/platform/db"

	"github.com/kaidian/kaidian/internal/platform/errs"
)

// TextCheck vets a product's title, subtitle and description before they
// are stored: an error refuses them; hold keeps the product off the shelf
// until a reviewer releases it (ReleaseReview). The server installs the
// moderation rules here; catalog does not know them.
type TextCheck func(shopID int64, text string) (hold bool, err error)

// HeldHook hears of a product held for review (the server queues it).
type HeldHook func(ctx context.Context, shopID, productID int64, text string) error

// SetTextCheck installs the check and what hears of held products (before
// serving); nil turns the check off.
func (s *Service) SetTextCheck(c TextCheck, held HeldHook) { s.textCheck, s.onHeld = c, held }

// checkText runs the installed check on a product's text; a held product
// is kept off the shelf.
func (s *Service) checkText(shopID int64, in *ProductInput) error {
	if s.textCheck == nil {
		return nil
	}
	hold, err := s.textCheck(shopID, productText(*in))
	if hold {
		in.OnShelf, in.reviewHold = false, true
	}
	return err
}

func productText(in ProductInput) string {
	return in.Title + "\n" + in.Subtitle + "\n" + in.Description
}

// held tells the hook of a product written with a review hold.
func (s *Service) held(ctx context.Context, shopID, id int64, in ProductInput) error {
	if !in.reviewHold || s.onHeld == nil {
		return nil
	}
	return s.onHeld(ctx, shopID, id, productText(in))
}

var errInReview = errs.E(errs.Conflict, "product_in_review", "the product's text is waiting for review; it can go on the shelf once approved")

// ReleaseReview lifts a product's review hold (its text was approved); it
// stays off the shelf until staff put it on.
func (s *Service) ReleaseReview(ctx context.Context, shopID, id int64) error {
	_, err := s.db.Exec(ctx, `UPDATE spus SET review_hold = FALSE, updated_at = ? WHERE id = ? AND shop_id = ?`, db.Now(), id, shopID)
	return errs.Wrap("release review", err)
}

// checkImport runs the check on every imported product, naming the line
// of the first one refused.
func (s *Service) checkImport(shopID int64, products []*importProduct) error {
	for _, p := range products {
		if err := s.checkText(shopID, &p.in); err != nil {
			e := *errs.As(err)
			e.Message = fmt.Sprintf("line %d: %s", p.line, e.Message)
			return &e
		}
	}
	return nil
}
