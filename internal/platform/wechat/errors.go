package wechat

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// APIError is an error WeChat reported in the errcode/errmsg fields of a
// response (WeChat answers errors with HTTP 200).
type APIError struct {
	Code    int
	Message string
}

// Error implements the error interface.
func (e *APIError) Error() string {
	return fmt.Sprintf("wechat: errcode %d: %s", e.Code, e.Message)
}

// IsInvalidCode reports whether err says a login or phone code is unknown,
// expired (40029) or already used (40163).
func IsInvalidCode(err error) bool { return hasCode(err, 40029, 40163) }

// IsRateLimited reports whether err is a daily (45009) or per-minute (45011)
// quota error; callers should back off.
func IsRateLimited(err error) bool { return hasCode(err, 45009, 45011) }

// IsBusy reports whether err is WeChat's "system busy" error (-1); the call
// may be retried later.
func IsBusy(err error) bool { return hasCode(err, -1) }

// IsRisky reports whether WeChat refused the call because the user is
// considered high-risk (40226).
func IsRisky(err error) bool { return hasCode(err, 40226) }

// isTokenError reports whether err says the access token is invalid,
// malformed or expired, so a fresh token should be fetched.
func isTokenError(err error) bool { return hasCode(err, 40001, 40014, 42001) }

func hasCode(err error, codes ...int) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && slices.Contains(codes, apiErr.Code)
}

// redactedError carries a message with secrets removed while still letting
// errors.Is/As reach the underlying cause.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact replaces every non-empty secret in s with "***".
func redact(s string, secrets []string) string {
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "***")
		}
	}
	return s
}
