package wechat

import (
	"context"
	"errors"
)

// SubscribeMessage is the body of subscribeMessage.send (POST
// /cgi-bin/message/subscribe/send): one message to a user who accepted the
// template (一次性订阅: one acceptance, one message).
type SubscribeMessage struct {
	ToUser     string                  `json:"touser"`
	TemplateID string                  `json:"template_id"`
	Page       string                  `json:"page,omitempty"`
	Data       map[string]KeywordValue `json:"data"`
	// MiniprogramState is the version opened by a tap: "formal" (default),
	// "trial" or "developer".
	MiniprogramState string `json:"miniprogram_state,omitempty"`
	Lang             string `json:"lang,omitempty"` // zh_CN (default), en_US, zh_HK, zh_TW
}

// KeywordValue is one keyword of a subscription message ({"value": …}).
type KeywordValue struct {
	Value string `json:"value"`
}

// SubscribeSendAPI is the path of subscribeMessage.send.
const SubscribeSendAPI = "/cgi-bin/message/subscribe/send"

// Subscription-message errcodes kaidian acts on.
const (
	ErrSubscribeOpenID   = 40003 // the openid is not a user of this app
	ErrSubscribeTemplate = 40037 // the template id is unknown (or was deleted)
	ErrSubscribePage     = 41030 // the page does not exist in the released version
	ErrSubscribeRefused  = 43101 // the user refused, or has no acceptance left
	ErrSubscribeData     = 47003 // a keyword's value breaks its type's rules (errmsg names it)
)

// SendSubscribeMessage sends m with the app's shared access token; a
// rejected token is refreshed and the call retried once (withToken).
func (c *Client) SendSubscribeMessage(ctx context.Context, app App, m SubscribeMessage) error {
	var out struct{}
	return c.withToken(ctx, app, func(token string) error {
		return c.call(ctx, tokenRequest(app, token, SubscribeSendAPI, m), &out)
	})
}

// IsSubscribeRefusal reports whether WeChat refused a subscription message
// for good (a retry unchanged fails the same way): the user refused or has
// no acceptance left (43101), a bad keyword value (47003), an unknown
// template (40037), page (41030) or openid (40003).
func IsSubscribeRefusal(err error) bool {
	return hasCode(err, ErrSubscribeOpenID, ErrSubscribeTemplate, ErrSubscribePage, ErrSubscribeRefused, ErrSubscribeData)
}

// ErrCode returns the errcode of a WeChat API error, or 0 for any other
// error (a timeout, a broken connection).
func ErrCode(err error) int {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code
	}
	return 0
}
