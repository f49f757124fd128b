package wechat

import (
	"context"
	"net/http"
	"net/url"
)

// Official Account (公众号) APIs. An OA is called like a mini program: its
// own appid and secret (an App), its own access token from the stable
// token endpoint, cached in the same TokenStore under the OA's appid.

// OATemplateMessage is the body of POST /cgi-bin/message/template/send: a
// category template (类目模板: no first/remark fields) to one follower.
type OATemplateMessage struct {
	ToUser      string                  `json:"touser"` // the follower's openid under the OA
	TemplateID  string                  `json:"template_id"`
	Miniprogram *OAMiniprogram          `json:"miniprogram,omitempty"`
	Data        map[string]KeywordValue `json:"data"`
	ClientMsgID string                  `json:"client_msg_id,omitempty"` // WeChat drops a repeat within a short window
}

// OAMiniprogram is the mini-program page a tap on the message opens.
type OAMiniprogram struct {
	AppID    string `json:"appid"`
	PagePath string `json:"pagepath,omitempty"`
}

// OA paths.
const (
	OATemplateSendAPI = "/cgi-bin/message/template/send"
	OAUserInfoAPI     = "/cgi-bin/user/info"
)

// OA errcodes kaidian acts on.
const (
	ErrOANotFollowing = 43004 // the user does not follow the OA (any more)
	ErrOAOpenID       = 40003 // the openid is not a user of this OA
	ErrOATemplate     = 40037 // the template id is unknown (or was deleted)
)

// OAClass is what to do after an OA template message failed.
type OAClass int

const (
	OARetry       OAClass = iota // busy, rate-limited or no answer: retry with backoff
	OAUnreachable                // the user cannot get OA messages: try the next channel
	OARefused                    // refused for good (template, fields): a dead letter for staff
)

// ClassifyOA classes an error of SendOATemplate: 43004 and 40003 say the
// user cannot be reached this way; -1, 45009/45011 and errors without an
// errcode (a timeout) are retried; any other errcode (40037 template
// invalid, 47001 bad data, …) is a refusal that a retry would repeat.
func ClassifyOA(err error) OAClass {
	switch code := ErrCode(err); {
	case code == ErrOANotFollowing || code == ErrOAOpenID:
		return OAUnreachable
	case code == 0 || IsBusy(err) || IsRateLimited(err) || isTokenError(err):
		return OARetry
	}
	return OARefused
}

// SendOATemplate sends m with the OA's access token (refreshed and retried
// once when WeChat rejects it).
func (c *Client) SendOATemplate(ctx context.Context, oa App, m OATemplateMessage) error {
	var out struct{}
	return c.withToken(ctx, oa, func(token string) error {
		return c.call(ctx, tokenRequest(oa, token, OATemplateSendAPI, m), &out)
	})
}

// OAUser is what user/info says about an openid of the OA.
type OAUser struct {
	OpenID    string `json:"openid"`
	UnionID   string `json:"unionid"`
	Subscribe int    `json:"subscribe"` // 1 following, 0 not
}

// OAUserInfo calls GET /cgi-bin/user/info for openid.
func (c *Client) OAUserInfo(ctx context.Context, oa App, openid string) (OAUser, error) {
	var out OAUser
	err := c.withToken(ctx, oa, func(token string) error {
		rq := request{method: http.MethodGet, path: OAUserInfoAPI, redact: []string{token, oa.Secret},
			query: url.Values{"access_token": {token}, "openid": {openid}, "lang": {"zh_CN"}}}
		return c.call(ctx, rq, &out)
	})
	return out, err
}
