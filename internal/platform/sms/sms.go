// Package sms sends text messages through Aliyun (阿里云短信, SendSms with the
// V3 signature ACS3-HMAC-SHA256) or Tencent Cloud (腾讯云短信, SendSms with
// TC3-HMAC-SHA256), on the standard library. Both answer errors inside an
// HTTP 200; Error carries the provider's code and says its class.
package sms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"
)

// Providers.
const (
	Aliyun  = "aliyun"
	Tencent = "tencent"
)

// Credentials are one shop's account at a provider.
type Credentials struct {
	Provider     string
	AccessKeyID  string // Aliyun AccessKey ID or Tencent SecretId
	AccessSecret string // Aliyun AccessKey secret or Tencent SecretKey
	SdkAppID     string // Tencent only: the SMS application (SmsSdkAppId)
	Region       string // Tencent only; ap-guangzhou when empty
}

// Param is one template variable. Aliyun fills templates by name, Tencent
// by position: both take the same ordered list.
type Param struct{ Name, Value string }

// Message is one text to one mainland phone number (11 digits).
type Message struct {
	Phone    string
	SignName string
	Template string // Aliyun TemplateCode or Tencent TemplateId
	Params   []Param
}

// Client sends messages. The zero value is usable; tests and the sandbox
// point the endpoints elsewhere.
type Client struct {
	HTTP            *http.Client
	AliyunEndpoint  string // https://dysmsapi.aliyuncs.com when empty
	TencentEndpoint string // https://sms.tencentcloudapi.com when empty
	Now             func() time.Time
}

// Result is a provider's receipt for a sent message.
type Result struct {
	ID        string // Aliyun BizId or Tencent SerialNo
	RequestID string
}

// Send sends m with cred.
func (c *Client) Send(ctx context.Context, cred Credentials, m Message) (Result, error) {
	if !ValidPhone(m.Phone) {
		return Result{}, &Error{Provider: cred.Provider, Code: codeLocalInvalidPhone, Message: "not a mainland mobile number", class: InvalidNumber}
	}
	switch cred.Provider {
	case Aliyun:
		return c.sendAliyun(ctx, cred, m)
	case Tencent:
		return c.sendTencent(ctx, cred, m)
	}
	return Result{}, fmt.Errorf("sms: unknown provider %q", cred.Provider)
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 10 * time.Second}
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

var phonePattern = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// ValidPhone reports whether p is a mainland China mobile number, 11 digits
// starting 13–19.
func ValidPhone(p string) bool { return phonePattern.MatchString(p) }

// Class sorts provider errors by what the caller should do.
type Class int

const (
	// Temporary: the provider is busy or failed; retry later.
	Temporary Class = iota
	// Throttled: the provider's frequency limits for this number; retry much later.
	Throttled
	// InvalidNumber: the number is wrong; never retry.
	InvalidNumber
	// BadTemplate: the sign name or template is not approved; fix settings.
	BadTemplate
	// Refused: credentials, balance or any other refusal; not retried.
	Refused
)

const codeLocalInvalidPhone = "local.INVALID_PHONE"

// Error is a provider's refusal.
type Error struct {
	Provider, Code, Message string
	class                   Class
}

func (e *Error) Error() string { return "sms " + e.Provider + ": " + e.Code + ": " + e.Message }

// Class says what kind of refusal e is.
func (e *Error) Class() Class { return e.class }

// ClassOf returns err's class: an *Error's, else Temporary (a network
// error or an unreadable answer).
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.class
	}
	return Temporary
}

// Aliyun's codes (help.aliyun.com/document_detail/101346).
var aliyunClasses = map[string]Class{
	"isv.BUSINESS_LIMIT_CONTROL":      Throttled,
	"isv.DAY_LIMIT_CONTROL":           Throttled,
	"isv.MOBILE_NUMBER_ILLEGAL":       InvalidNumber,
	"isv.MOBILE_COUNT_OVER_LIMIT":     InvalidNumber,
	"isv.SMS_TEMPLATE_ILLEGAL":        BadTemplate,
	"isv.SMS_SIGNATURE_ILLEGAL":       BadTemplate,
	"isv.TEMPLATE_MISSING_PARAMETERS": BadTemplate,
	"isv.INVALID_PARAMETERS":          BadTemplate,
	"isp.SYSTEM_ERROR":                Temporary,
	"isp.RAM_PERMISSION_DENY":         Refused,
	"isv.AMOUNT_NOT_ENOUGH":           Refused,
	"InvalidAccessKeyId.NotFound":     Refused,
	"SignatureDoesNotMatch":           Refused,
}

// Tencent's codes (sms/v20210111/errors.go).
var tencentClasses = map[string]Class{
	"LimitExceeded.PhoneNumberThirtySecondLimit":         Throttled,
	"LimitExceeded.PhoneNumberOneHourLimit":              Throttled,
	"LimitExceeded.PhoneNumberDailyLimit":                Throttled,
	"LimitExceeded.PhoneNumberSameContentDailyLimit":     Throttled,
	"InvalidParameterValue.IncorrectPhoneNumber":         InvalidNumber,
	"FailedOperation.TemplateIncorrectOrUnapproved":      BadTemplate,
	"FailedOperation.SignatureIncorrectOrUnapproved":     BadTemplate,
	"InvalidParameterValue.TemplateParameterFormatError": BadTemplate,
	"FailedOperation.MarketingSendTimeConstraint":        Throttled,
	"InternalError.Timeout":                              Temporary,
	"InternalError":                                      Temporary,
	"AuthFailure.SignatureFailure":                       Refused,
	"AuthFailure.SecretIdNotFound":                       Refused,
	"AuthFailure.SignatureExpire":                        Refused,
	"FailedOperation.InsufficientBalanceInSmsPackage":    Refused,
}

func classify(provider, code string) Class {
	table := aliyunClasses
	if provider == Tencent {
		table = tencentClasses
	}
	if c, ok := table[code]; ok {
		return c
	}
	return Refused
}
