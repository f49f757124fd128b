package wxshipping

import (
	"strings"
	"unicode"

	"github.com/kaidian/kaidian/internal/platform/carriers"
)

// ExpressCompany returns the WeChat delivery code for a carrier (see
// carriers.WeChatCode).
func ExpressCompany(carrier string) string { return carriers.WeChatCode(carrier) }

// MaskPhone masks a phone number as WeChat wants a contact for SF: the
// first three and last four digits in clear ("138****8000").
func MaskPhone(phone string) string {
	digits := strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return r
		}
		return -1
	}, phone)
	if len(digits) < 4 {
		return "****"
	}
	head := ""
	if len(digits) >= 11 {
		head = digits[:3]
	}
	return head + "****" + digits[len(digits)-4:]
}
