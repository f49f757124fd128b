// Package kuaidi100 is a client of 快递100's tracking API (stdlib only): the
// real-time query (poll/query.do), the subscription (poll) that makes 快递100
// push every new event of a waybill to a callback URL, and the check of
// those pushes. Requests are form posts signed with MD5 as 快递100 asks.
package kuaidi100

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is 快递100's API host.
const DefaultBaseURL = "https://poll.kuaidi100.com"

// States of a waybill (快递100's state).
const (
	InTransit  = 0  // 在途
	PickedUp   = 1  // 揽收
	Problem    = 2  // 疑难
	Signed     = 3  // 签收
	Returned   = 4  // 退签
	Delivering = 5  // 派件
	Refused    = 14 // 拒签
)

// Final reports whether a waybill in state will not move any more.
func Final(state int) bool { return state == Signed || state == Returned || state == Refused }

// Waybill names a parcel: the carrier's 快递100 code and its number; SF
// asks for the receiver's or sender's phone as well.
type Waybill struct {
	Company string `json:"com"`
	Number  string `json:"num"`
	Phone   string `json:"phone,omitempty"`
}

// Event is one step of a parcel's route.
type Event struct {
	Time    time.Time
	Context string
}

// Trace is what 快递100 knows of a waybill.
type Trace struct {
	State  int
	Events []Event // newest first, as 快递100 sends them
}

// Client calls 快递100 for one account.
type Client struct {
	BaseURL  string
	Customer string // 授权 customer
	Key      string // 授权 key
	HTTP     *http.Client
}

// Error is an answer of 快递100 that is not a success.
type Error struct {
	ReturnCode string
	Message    string
}

func (e *Error) Error() string { return "kuaidi100: " + e.ReturnCode + " " + e.Message }

var shanghai = time.FixedZone("CST", 8*3600)

// Sign is 快递100's request signature: upper-case MD5 of the parts joined.
func Sign(parts ...string) string {
	sum := md5.Sum([]byte(strings.Join(parts, "")))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// Query asks for a waybill's route now.
func (c *Client) Query(ctx context.Context, w Waybill) (Trace, error) {
	param, _ := json.Marshal(w)
	form := url.Values{"customer": {c.Customer}, "param": {string(param)}, "sign": {Sign(string(param), c.Key, c.Customer)}}
	var out struct {
		Result     *bool    `json:"result"`
		ReturnCode string   `json:"returnCode"`
		Message    string   `json:"message"`
		State      string   `json:"state"`
		Data       []rawEvt `json:"data"`
	}
	if err := c.post(ctx, "/poll/query.do", form, &out); err != nil {
		return Trace{}, err
	}
	if out.Result != nil && !*out.Result {
		return Trace{}, &Error{ReturnCode: out.ReturnCode, Message: out.Message}
	}
	return toTrace(out.State, out.Data)
}

// Subscribe asks 快递100 to push the waybill's events to callbackURL,
// signed with salt. A waybill already subscribed counts as done.
func (c *Client) Subscribe(ctx context.Context, w Waybill, callbackURL, salt string) error {
	param, _ := json.Marshal(map[string]any{"company": w.Company, "number": w.Number, "key": c.Key,
		"parameters": map[string]any{"callbackurl": callbackURL, "salt": salt, "phone": w.Phone, "resultv2": "1"}})
	form := url.Values{"schema": {"json"}, "param": {string(param)}}
	var out struct {
		Result     bool   `json:"result"`
		ReturnCode string `json:"returnCode"`
		Message    string `json:"message"`
	}
	if err := c.post(ctx, "/poll", form, &out); err != nil {
		return err
	}
	if !out.Result && out.ReturnCode != "501" { // 501: subscribed before
		return &Error{ReturnCode: out.ReturnCode, Message: out.Message}
	}
	return nil
}

func (c *Client) post(ctx context.Context, path string, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.BaseURL, "/")+path, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("kuaidi100: HTTP %d", resp.StatusCode)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("kuaidi100: unreadable answer: %w", err)
	}
	return nil
}

type rawEvt struct {
	Time    string `json:"time"`
	FTime   string `json:"ftime"`
	Context string `json:"context"`
}

func toTrace(state string, data []rawEvt) (Trace, error) {
	st, err := strconv.Atoi(state)
	if err != nil && state != "" {
		return Trace{}, fmt.Errorf("kuaidi100: state %q", state)
	}
	t := Trace{State: st, Events: make([]Event, 0, len(data))}
	for _, d := range data {
		when := d.FTime
		if when == "" {
			when = d.Time
		}
		at, err := time.ParseInLocation("2006-01-02 15:04:05", when, shanghai)
		if err != nil {
			return Trace{}, fmt.Errorf("kuaidi100: event time %q", when)
		}
		t.Events = append(t.Events, Event{Time: at.UTC(), Context: d.Context})
	}
	return t, nil
}

// Push is one subscription push: the waybill and its whole route so far.
type Push struct {
	Status  string // polling, shutdown (final), abort, updateall
	Company string
	Number  string
	Trace   Trace
}

// Ack is the answer 快递100 wants for a push it should not repeat.
const Ack = `{"result":true,"returnCode":"200","message":"成功"}`

// ErrBadSignature is a push whose sign does not match the salt.
var ErrBadSignature = errors.New("kuaidi100: push signature does not verify")

// ParsePush checks a push's form (param, sign) against salt and reads it.
// 快递100 does not say the sign's case; it is compared case-insensitively.
func ParsePush(form url.Values, salt string) (Push, error) {
	param := form.Get("param")
	if !strings.EqualFold(form.Get("sign"), Sign(param, salt)) {
		return Push{}, ErrBadSignature
	}
	var in struct {
		Status     string `json:"status"`
		LastResult struct {
			State string   `json:"state"`
			Com   string   `json:"com"`
			Nu    string   `json:"nu"`
			Data  []rawEvt `json:"data"`
		} `json:"lastResult"`
	}
	if err := json.Unmarshal([]byte(param), &in); err != nil {
		return Push{}, fmt.Errorf("kuaidi100: push param: %w", err)
	}
	t, err := toTrace(in.LastResult.State, in.LastResult.Data)
	if err != nil {
		return Push{}, err
	}
	return Push{Status: in.Status, Company: in.LastResult.Com, Number: in.LastResult.Nu, Trace: t}, nil
}

// FormatTime writes t as 快递100 does (Asia/Shanghai, to the second).
func FormatTime(t time.Time) string { return t.In(shanghai).Format("2006-01-02 15:04:05") }
