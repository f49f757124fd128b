package wechatpay

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Reasons a signed message from WeChat (a response or a notification) is
// rejected. Errors returned by this package wrap at most one of them; test
// with errors.Is. A notification handler should answer 4xx to all of them
// (see IsRejected).
var (
	// ErrBadSignature: the signature is missing, malformed, of another
	// type, or does not match (WeChat's probe signatures land here).
	ErrBadSignature = errors.New("bad signature")
	// ErrStaleTimestamp: Wechatpay-Timestamp is malformed or 5 minutes or
	// more away from now.
	ErrStaleTimestamp = errors.New("timestamp outside the 5-minute window")
	// ErrUnknownSerial: Wechatpay-Serial names no key the Verifier trusts
	// (or a platform certificate outside its validity period).
	ErrUnknownSerial = errors.New("unknown signing key serial")
	// ErrBadAlgorithm: the notification resource is not AEAD_AES_256_GCM.
	ErrBadAlgorithm = errors.New("unsupported resource algorithm")
	// ErrBadCiphertext: the notification resource does not decrypt and
	// authenticate under the APIv3 key.
	ErrBadCiphertext = errors.New("resource decryption failed")
	// ErrMalformed: the notification is not a POST, too large, or not the
	// expected JSON.
	ErrMalformed = errors.New("malformed notification")
)

var (
	// ErrBillHash means a downloaded trade bill does not match the
	// hash_value WeChat announced for it.
	ErrBillHash = errors.New("trade bill hash mismatch")
	// ErrInvalidRequest means the client refused to send a request whose
	// arguments WeChat would reject anyway.
	ErrInvalidRequest = errors.New("invalid request")
)

var rejections = []error{
	ErrBadSignature, ErrStaleTimestamp, ErrUnknownSerial,
	ErrBadAlgorithm, ErrBadCiphertext, ErrMalformed,
}

// IsRejected reports whether err says a notification was forged, tampered
// with, stale or malformed, so the handler should answer 4xx. Other errors
// (a misconfigured key, say) deserve 5xx; WeChat retries either way.
func IsRejected(err error) bool {
	return slices.ContainsFunc(rejections, func(target error) bool { return errors.Is(err, target) })
}

// APIError is a non-2xx answer from WeChat Pay, e.g. HTTP 400 PARAM_ERROR
// or HTTP 404 ORDER_NOT_EXIST. Such answers are not signature-checked.
type APIError struct {
	StatusCode int
	Code       string // WeChat's error code, e.g. "SYSTEM_ERROR"
	Message    string
	RequestID  string // Request-Id header, for WeChat support
}

// Error implements the error interface.
func (e *APIError) Error() string {
	msg := fmt.Sprintf("HTTP %d %s: %s", e.StatusCode, e.Code, e.Message)
	if e.RequestID != "" {
		msg += " (request " + e.RequestID + ")"
	}
	return msg
}

var retryableCodes = []string{"SYSTEM_ERROR", "FREQUENCY_LIMITED", "BANK_ERROR", "SYSTEMERROR"}

// IsRetryable reports whether the call may succeed if repeated with the
// same arguments: a 5xx or 429 answer, a retryable error code, or a
// network failure (timeout, refused or broken connection) other than the
// caller cancelling. Prepay, close and refund are idempotent per
// out_trade_no / out_refund_no, so repeating them is safe. A response
// that fails verification is not retryable.
func IsRetryable(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode >= 500 || apiErr.StatusCode == 429 ||
			slices.Contains(retryableCodes, apiErr.Code)
	}
	var tErr *transportError
	return errors.As(err, &tErr) && !errors.Is(err, context.Canceled)
}

// transportError marks a failure to get an answer at all.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// IsNotFound reports whether WeChat says the order or refund does not
// exist (HTTP 404, ORDER_NOT_EXIST or RESOURCE_NOT_EXISTS).
func IsNotFound(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && (apiErr.StatusCode == 404 ||
		apiErr.Code == "ORDER_NOT_EXIST" || apiErr.Code == "RESOURCE_NOT_EXISTS")
}

// HasCode reports whether err is an *APIError with the given code.
func HasCode(err error, code string) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Code == code
}
