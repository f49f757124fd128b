package freight

import "github.com/kaidian/kaidian/internal/platform/errs"

func isCode(err error, code string) bool { return errs.Is(err, code) }
