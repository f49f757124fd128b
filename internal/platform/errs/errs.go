// Package errs defines kaidian's error kinds. Domain code returns *Error with
// a stable code; the HTTP layer maps the kind to a status in one place.
package errs

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Kind classifies an error; each kind maps to one HTTP status.
type Kind int

const (
	Internal        Kind = iota // 500: a bug or an outage; details are logged, not shown
	Invalid                     // 400: the request is malformed or a value is out of range
	Unauthenticated             // 401: no valid session
	Forbidden                   // 403: authenticated but not allowed
	NotFound                    // 404: no such thing (or not yours)
	Conflict                    // 409: the state does not allow it (or a duplicate)
	TooLarge                    // 413: the body is over the limit
	Unsupported                 // 415: wrong content type
	RateLimited                 // 429: slow down
	Unavailable                 // 503: a dependency is down; try again
	Gone                        // 410: the thing expired or was used up
	Unprocessable               // 422: well-formed, but refused (e.g. prohibited content)
)

// Error is a domain error with a stable machine-readable code (such as
// "product_not_found") and a message a developer can read. Fields names the
// input fields at fault, each with its own message.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Fields  map[string]string
	Err     error // the cause, logged for Internal errors, never shown
	// RetryAfter is how long a RateLimited caller must wait (0: unknown),
	// sent as the Retry-After header.
	RetryAfter time.Duration
	// Challenge is the token of a login's second step (401
	// second_factor_required), sent in the answer.
	Challenge string
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an Error of kind with a code and message.
func E(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// TooMany builds a RateLimited error whose caller must wait retryAfter (the
// limiter's own answer: sent as the Retry-After header, never a guess).
func TooMany(code, message string, retryAfter time.Duration) *Error {
	return &Error{Kind: RateLimited, Code: code, Message: message, RetryAfter: retryAfter}
}

// Field builds an Invalid error about one input field.
func Field(field, code, message string) *Error {
	return &Error{Kind: Invalid, Code: code, Message: message, Fields: map[string]string{field: message}}
}

// Wrap marks err as an internal error with an operation name.
func Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Kind: Internal, Code: "internal", Message: "internal error", Err: fmt.Errorf("%s: %w", op, err)}
}

// As returns err as *Error, turning any other error into an Internal one.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: Internal, Code: "internal", Message: "internal error", Err: err}
}

// Is reports whether err is an *Error with this code.
func Is(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// Validator collects field errors, so a request reports all of them at once.
type Validator struct{ fields map[string]string }

// Check records message for field when ok is false.
func (v *Validator) Check(ok bool, field, message string) {
	if ok {
		return
	}
	if v.fields == nil {
		v.fields = map[string]string{}
	}
	if _, seen := v.fields[field]; !seen {
		v.fields[field] = message
	}
}

// Err returns an Invalid error listing every failed field, or nil.
func (v *Validator) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Code: "invalid_fields", Message: "some fields are invalid", Fields: v.fields}
}

// StoredMessageLen is the most bytes of an error message kept in a
// last_error column.
const StoredMessageLen = 500

// StoredMessage is err's message cut to StoredMessageLen bytes on a rune
// boundary: WeChat's messages are Chinese, and a cut inside a character is
// invalid UTF-8, which PostgreSQL refuses to store.
func StoredMessage(err error) string {
	msg := err.Error()
	if len(msg) <= StoredMessageLen {
		return msg
	}
	n := StoredMessageLen
	for n > 0 && !utf8.RuneStart(msg[n]) {
		n--
	}
	return msg[:n]
}
