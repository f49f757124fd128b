package wechatpay

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
	"sync/atomic"
	"time"
)

// DefaultBaseURL is the production API host (api2.mch.weixin.qq.com is the
// backup).
const DefaultBaseURL = "https://api.mch.weixin.qq.com"

const (
	defaultTimeout   = 10 * time.Second
	maxResponseBytes = 1 << 20
	userAgent        = "kaidian-wechatpay/1 (Go stdlib)"
)

// Client calls WeChat Pay API v3 for one merchant. It is safe for
// concurrent use.
type Client struct {
	baseURL string
	m       Merchant
	v       atomic.Pointer[Verifier]
	refresh atomic.Pointer[KeyRefresher]
	http    *http.Client
	clock   atomic.Pointer[func() time.Time]
}

// NewClient returns a client for the API at baseURL (DefaultBaseURL in
// production; a sandbox URL, possibly with a path prefix, in tests). It
// signs requests as m and accepts only responses v verifies. The signed
// URL is the API path and query without baseURL's prefix: what WeChat
// sees, and what a sandbox mounted with http.StripPrefix sees. A nil
// httpClient means one with a 10 s timeout. Call m.Validate when loading
// credentials; a client with incomplete credentials fails on each call.
func NewClient(baseURL string, m Merchant, v *Verifier, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: defaultTimeout}
	}
	c := &Client{baseURL: strings.TrimRight(baseURL, "/"), m: m, http: httpClient}
	c.v.Store(v)
	c.SetClock(nil)
	return c
}

// SetVerifier replaces the keys the client trusts (after a certificate
// refresh); calls in flight finish with the old ones.
func (c *Client) SetVerifier(v *Verifier) { c.v.Store(v) }

// Verifier returns the keys the client trusts now.
func (c *Client) Verifier() *Verifier { return c.v.Load() }

// KeyRefresher is called when a response or notification is signed with a
// platform certificate serial the client does not trust. It returns the
// Verifier to trust from now on (typically after downloading the platform
// certificates), or an error. It must limit how often it downloads: a
// forger can send unknown serials at will.
type KeyRefresher func(ctx context.Context, serial string) (*Verifier, error)

// OnUnknownSerial sets the refresher; nil removes it. Serials of WeChat
// Pay public keys ("PUB_KEY_ID_…") never trigger it: no download can
// produce one.
func (c *Client) OnUnknownSerial(f KeyRefresher) {
	if f == nil {
		c.refresh.Store(nil)
		return
	}
	c.refresh.Store(&f)
}

// verify checks WeChat's signature on a response or notification. An
// unknown certificate serial triggers the refresher once; the message is
// then checked again with the keys it returns.
func (c *Client) verify(ctx context.Context, h http.Header, body []byte) error {
	err := c.Verifier().Verify(h, body, c.now())
	refresh := c.refresh.Load()
	serial := h.Get(HeaderSerial)
	if !errors.Is(err, ErrUnknownSerial) || refresh == nil || strings.HasPrefix(strings.ToUpper(serial), publicKeyIDPrefix) {
		return err
	}
	v, rerr := (*refresh)(ctx, serial)
	if rerr != nil {
		return fmt.Errorf("%w (certificate refresh: %v)", err, rerr)
	}
	c.SetVerifier(v)
	return v.Verify(h, body, c.now())
}

// SetClock replaces the clock used for request timestamps and the response
// timestamp window (for tests). A nil now restores time.Now.
func (c *Client) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	c.clock.Store(&now)
}

func (c *Client) now() time.Time { return (*c.clock.Load())() }

// String describes the client without its credentials.
func (c *Client) String() string {
	return fmt.Sprintf("wechatpay.Client{%s mchid=%s}", c.baseURL, c.m.MchID)
}

// call is one API request. path is already escaped and, like query, is
// what WeChat sees: it is signed and appended to the base URL.
type call struct {
	method string
	path   string
	query  url.Values
	raw    string // a query string sent as is, when query is empty
	body   any    // JSON-encoded when non-nil
}

func (cl call) uri() string {
	switch {
	case len(cl.query) > 0:
		return cl.path + "?" + cl.query.Encode()
	case cl.raw != "":
		return cl.path + "?" + cl.raw
	}
	return cl.path
}

// errorf names the call (never its query string, which may hold a
// download token) in an error.
func (cl call) errorf(format string, args ...any) error {
	return fmt.Errorf("wechatpay: %s %s: %w", cl.method, cl.path, fmt.Errorf(format, args...))
}

// do performs cl, verifies a 2xx response's signature and decodes its body
// into out (if out is not nil and the body not empty).
func (c *Client) do(ctx context.Context, cl call, out any) error {
	resp, body, err := c.send(ctx, cl, maxResponseBytes)
	if err != nil {
		return err
	}
	if err := c.verify(ctx, resp.Header, body); err != nil {
		return cl.errorf("response: %w", err)
	}
	if out == nil || len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return cl.errorf("decode response: %w", err)
	}
	return nil
}

// send signs and performs cl and reads at most limit bytes of the answer.
// A non-2xx answer becomes an *APIError.
func (c *Client) send(ctx context.Context, cl call, limit int64) (*http.Response, []byte, error) {
	req, err := c.newRequest(ctx, cl)
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var urlErr *url.Error // its message repeats the whole URL
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return nil, nil, cl.errorf("%w", &transportError{err})
	}
	defer resp.Body.Close()
	body, err := readLimited(resp.Body, limit)
	if err != nil {
		return nil, nil, cl.errorf("read response: %w", &transportError{err})
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, nil, cl.errorf("%w", newAPIError(resp, body))
	}
	return resp, body, nil
}

func (c *Client) newRequest(ctx context.Context, cl call) (*http.Request, error) {
	body, err := encodeJSON(cl.body)
	if err != nil {
		return nil, cl.errorf("encode request: %w", err)
	}
	auth, err := c.authorization(cl.method, cl.uri(), body)
	if err != nil {
		return nil, cl.errorf("%w", err)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, c.baseURL+cl.uri(), bytes.NewReader(body))
	if err != nil {
		return nil, cl.errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// encodeJSON encodes v like the official SDK (json.Encoder, so the body
// ends in a newline) without HTML escaping; nil stays nil.
func encodeJSON(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("body larger than %d bytes", limit)
	}
	return data, nil
}

// newAPIError reads WeChat's {"code","message"} error body.
func newAPIError(resp *http.Response, body []byte) *APIError {
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil || e.Code == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return &APIError{
		StatusCode: resp.StatusCode,
		Code:       e.Code,
		Message:    truncate(e.Message, 300),
		RequestID:  resp.Header.Get("Request-Id"),
	}
}

// truncate shortens s to at most n runes.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
