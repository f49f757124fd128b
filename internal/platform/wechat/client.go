// Package wechat is a client for WeChat mini-program server APIs
// (https://api.weixin.qq.com): login, access tokens, phone numbers and
// content security checks. It uses only the standard library.
package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultBaseURL is the production host of the mini-program server APIs.
const DefaultBaseURL = "https://api.weixin.qq.com"

const (
	defaultTimeout   = 10 * time.Second
	maxResponseBytes = 1 << 20
)

// App identifies a mini program by its AppID and AppSecret.
type App struct {
	AppID, Secret string
}

// Client calls the WeChat mini-program server APIs. It is safe for
// concurrent use.
type Client struct {
	baseURL string
	http    *http.Client
	tokens  TokenStore
	clock   atomic.Pointer[func() time.Time]

	mu      sync.Mutex
	flights map[string]*flight // in-flight token fetches by appid
}

// NewClient returns a client for the API host at baseURL (DefaultBaseURL in
// production, a sandbox URL in tests; it may include a path prefix). A nil
// httpClient means a client with a 10 s timeout; nil tokens means an
// in-memory store.
func NewClient(baseURL string, httpClient *http.Client, tokens TokenStore) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: defaultTimeout}
	}
	if tokens == nil {
		tokens = NewMemoryTokenStore()
	}
	c := &Client{
		baseURL: strings.TrimRight(baseURL, "/"),
		http:    httpClient,
		tokens:  tokens,
		flights: make(map[string]*flight),
	}
	c.SetClock(time.Now)
	return c
}

// SetClock replaces the clock used to judge token expiry (for tests).
// A nil now restores time.Now.
func (c *Client) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	c.clock.Store(&now)
}

func (c *Client) now() time.Time { return (*c.clock.Load())() }

// Session is the result of a successful login (code2Session).
type Session struct {
	OpenID, UnionID, SessionKey string
}

// Code2Session exchanges a wx.login code for the user's identity.
// UnionID is empty unless the app is bound to an open-platform account.
func (c *Client) Code2Session(ctx context.Context, app App, code string) (Session, error) {
	var out struct {
		OpenID     string `json:"openid"`
		UnionID    string `json:"unionid"`
		SessionKey string `json:"session_key"`
	}
	rq := request{
		method: http.MethodGet,
		path:   "/sns/jscode2session",
		query: url.Values{
			"appid":      {app.AppID},
			"secret":     {app.Secret},
			"js_code":    {code},
			"grant_type": {"authorization_code"},
		},
		redact: []string{app.Secret},
	}
	if err := c.call(ctx, rq, &out); err != nil {
		return Session{}, err
	}
	return Session{OpenID: out.OpenID, UnionID: out.UnionID, SessionKey: out.SessionKey}, nil
}

// Phone is a user's phone number as returned by getuserphonenumber.
type Phone struct {
	PhoneNumber, PurePhoneNumber, CountryCode string
}

// PhoneNumber exchanges a getPhoneNumber button code for the user's phone
// number.
func (c *Client) PhoneNumber(ctx context.Context, app App, code string) (Phone, error) {
	var out struct {
		Info struct {
			PhoneNumber     string     `json:"phoneNumber"`
			PurePhoneNumber string     `json:"purePhoneNumber"`
			CountryCode     flexString `json:"countryCode"`
		} `json:"phone_info"`
	}
	body := map[string]string{"code": code}
	err := c.withToken(ctx, app, func(token string) error {
		return c.call(ctx, tokenRequest(app, token, "/wxa/business/getuserphonenumber", body), &out)
	})
	if err != nil {
		return Phone{}, err
	}
	info := out.Info
	return Phone{
		PhoneNumber:     info.PhoneNumber,
		PurePhoneNumber: info.PurePhoneNumber,
		CountryCode:     string(info.CountryCode),
	}, nil
}

// SecCheckResult is the verdict of a text security check. Suggest is
// "pass", "review" or "risky"; Label is the category (100 means normal).
type SecCheckResult struct {
	Suggest string
	Label   int
	TraceID string
}

// MsgSecCheck checks user-generated text (version 2 of msg_sec_check).
// scene is 1 (profile), 2 (comment), 3 (forum) or 4 (social log); openid
// must belong to a user who recently used the mini program.
func (c *Client) MsgSecCheck(ctx context.Context, app App, openid string, scene int, content string) (SecCheckResult, error) {
	var out struct {
		TraceID string `json:"trace_id"`
		Result  struct {
			Suggest string `json:"suggest"`
			Label   int    `json:"label"`
		} `json:"result"`
	}
	body := map[string]any{"version": 2, "openid": openid, "scene": scene, "content": content}
	err := c.withToken(ctx, app, func(token string) error {
		return c.call(ctx, tokenRequest(app, token, "/wxa/msg_sec_check", body), &out)
	})
	if err != nil {
		return SecCheckResult{}, err
	}
	return SecCheckResult{Suggest: out.Result.Suggest, Label: out.Result.Label, TraceID: out.TraceID}, nil
}

// withToken runs fn with the app's access token. If WeChat rejects the token
// (40001, 40014, 42001) it is replaced by a fresh one and fn is retried once.
func (c *Client) withToken(ctx context.Context, app App, fn func(token string) error) error {
	token, err := c.AccessToken(ctx, app)
	if err != nil {
		return err
	}
	if err = fn(token); !isTokenError(err) {
		return err
	}
	if token, err = c.token(ctx, app, token); err != nil {
		return err
	}
	return fn(token)
}

// request describes one API call.
type request struct {
	method string
	path   string
	query  url.Values
	body   any      // encoded as JSON when non-nil
	raw    []byte   // sent as is when non-nil (a signed body must not be re-encoded)
	redact []string // values that must never appear in an error message
}

// tokenRequest is a POST with the access token in the query string.
func tokenRequest(app App, token, path string, body any) request {
	return request{
		method: http.MethodPost,
		path:   path,
		query:  url.Values{"access_token": {token}},
		body:   body,
		redact: []string{token, app.Secret},
	}
}

// call performs rq and decodes a successful response into out. A non-zero
// errcode becomes an *APIError.
func (c *Client) call(ctx context.Context, rq request, out any) error {
	data, err := c.fetch(ctx, rq)
	if err != nil {
		return err
	}
	return rq.decode(data, out)
}

// fetch performs rq and returns the body of its 200 answer.
func (c *Client) fetch(ctx context.Context, rq request) ([]byte, error) {
	req, err := c.newRequest(ctx, rq)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var urlErr *url.Error // its message holds the full URL, secrets included
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return nil, rq.errorf("%w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, rq.errorf("unexpected HTTP status %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, rq.errorf("read response: %w", err)
	}
	return data, nil
}

func (c *Client) newRequest(ctx context.Context, rq request) (*http.Request, error) {
	u := c.baseURL + rq.path
	if len(rq.query) > 0 {
		u += "?" + rq.query.Encode()
	}
	var body io.Reader
	if rq.raw != nil {
		body = bytes.NewReader(rq.raw)
	} else if rq.body != nil {
		data, err := json.Marshal(rq.body)
		if err != nil {
			return nil, rq.errorf("encode request: %w", err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, u, body)
	if err != nil {
		return nil, rq.errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// decode checks errcode and unmarshals data into out.
func (rq request) decode(data []byte, out any) error {
	var status struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(data, &status); err != nil {
		return rq.errorf("decode response: %w", err)
	}
	if status.ErrCode != 0 {
		return &APIError{Code: status.ErrCode, Message: redact(status.ErrMsg, rq.redact)}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return rq.errorf("decode response: %w", err)
	}
	return nil
}

// errorf builds an error naming the call (never its query string) with any
// secrets of rq removed from the message.
func (rq request) errorf(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	msg := fmt.Sprintf("wechat: %s %s: %v", rq.method, rq.path, err)
	return &redactedError{msg: redact(msg, rq.redact), err: err}
}

// flexString accepts a JSON string or number (WeChat sends countryCode
// either way).
type flexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexString) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(data, &n); err != nil {
		return fmt.Errorf("want a string or number, got %.20s", data)
	}
	*f = flexString(n.String())
	return nil
}
