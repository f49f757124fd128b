package catalog

import (
	"fmt"

	"github.com/kaidian/kaidian/internal/platform/errs"
)

// TextCheck vets a product's title, subtitle and description before they
// are stored; it returns the error to refuse them with. The server installs
// the moderation rules here; catalog does not know them.
type TextCheck func(shopID int64, text string) error

// SetTextCheck installs the check (before serving); nil turns it off.
func (s *Service) SetTextCheck(c TextCheck) { s.textCheck = c }

// checkText runs the installed check on a product's text.
func (s *Service) checkText(shopID int64, in ProductInput) error {
	if s.textCheck == nil {
		return nil
	}
	return s.textCheck(shopID, in.Title+"\n"+in.Subtitle+"\n"+in.Description)
}

// checkImport runs the check on every imported product, naming the line
// of the first one refused.
func (s *Service) checkImport(shopID int64, products []*importProduct) error {
	for _, p := range products {
		if err := s.checkText(shopID, p.in); err != nil {
			e := *errs.As(err)
			e.Message = fmt.Sprintf("line %d: %s", p.line, e.Message)
			return &e
		}
	}
	return nil
}
