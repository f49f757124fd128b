// Package mask hides personal data shown to staff who have not asked to
// see it (issue 18): the middle of a phone number, all but the first
// character of a name.
package mask

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// RevealRequest asks to see masked personal data in full: the reason is
// required and goes into the audit log with who asked.
type RevealRequest struct {
	Reason string `json:"reason" doc:"why, 2 to 200 characters, e.g. 联系买家确认收货地址"`
}

// ReadReveal reads a reveal route's {id} and its body, refusing one
// without a reason.
func ReadReveal(w http.ResponseWriter, r *http.Request) (int64, error) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return 0, err
	}
	var in RevealRequest
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return 0, err
	}
	return id, in.Check()
}

// Check refuses a missing or overlong reason.
func (r RevealRequest) Check() error {
	n := utf8.RuneCountInString(strings.TrimSpace(r.Reason))
	if n < 2 || n > 200 {
		return errs.Field("reason", "reason_required", "say why, in 2 to 200 characters: the reveal is recorded with it")
	}
	return nil
}

// Phone hides the four digits before the last four: 13800138000 →
// 138****8000, +86 13800138000 → +86 138****8000. Shorter values (an
// extension) are shown as they are.
func Phone(p string) string {
	r := []rune(p)
	if len(r) < 7 {
		return p
	}
	for i := max(len(r)-8, 0); i < len(r)-4; i++ {
		r[i] = '*'
	}
	return string(r)
}

// Name keeps the first character: 张三丰 → 张**, Li Lei → L******.
func Name(n string) string {
	r := []rune(n)
	if len(r) <= 1 {
		return n
	}
	for i := 1; i < len(r); i++ {
		r[i] = '*'
	}
	return string(r)
}
