package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/wechat"
)

// mediaCheckAPI is WeChat's asynchronous image check.
const mediaCheckAPI = "/wxa/media_check_async"

// errMediaURL is WeChat's status for a media_url it cannot fetch
// (cloud:// or temporary file paths): 4294966288, i.e. -1008.
const errMediaURL = -1008

// MediaCheck is one image sent to media_check_async.
type MediaCheck struct {
	TraceID, AppID, MediaURL, OpenID string
	Scene                            int
	Delivered                        bool // its result was pushed
}

// PushTarget is where the sandbox pushes a mini program's events: the
// shop's message-push URL with its Token and EncodingAESKey (safe mode).
type PushTarget struct {
	URL, Token, EncodingAESKey string
}

func init() {
	apiRoutes[mediaCheckAPI] = apiRoute{http.MethodPost, (*Sandbox).mediaCheckAsync}
	controlRoutes["/sandbox/media-checks"] = (*Sandbox).ctlMediaChecks
	controlRoutes["/sandbox/media-risky"] = (*Sandbox).ctlMediaRisky
	controlRoutes["/sandbox/media-deliver"] = (*Sandbox).ctlMediaDeliver
	errMessages[errMediaURL] = "media_url 无法访问"
}

func (s *Sandbox) mediaCheckAsync(r *http.Request, body []byte) reply {
	appid, code := s.checkToken(r)
	if code != 0 {
		return errReply(code)
	}
	var req struct {
		MediaURL  string `json:"media_url"`
		MediaType int    `json:"media_type"`
		Version   int    `json:"version"`
		OpenID    string `json:"openid"`
		Scene     int    `json:"scene"`
	}
	if json.Unmarshal(body, &req) != nil {
		return errReply(errDataFormat)
	}
	switch {
	case req.Version != 2:
		return errReplyMsg(errInvalidArgs, "invalid args: version must be 2")
	case req.MediaType != 1 && req.MediaType != 2:
		return errReplyMsg(errInvalidArgs, "invalid args: media_type must be 1 (audio) or 2 (image)")
	case req.OpenID == "":
		return errReply(errInvalidOpenID)
	case req.Scene < 1 || req.Scene > 4:
		return errReplyMsg(errInvalidArgs, "invalid args: scene must be 1..4")
	case !strings.HasPrefix(req.MediaURL, "https://") && !strings.HasPrefix(req.MediaURL, "http://"):
		// WeChat takes public https:// URLs only; the sandbox also takes
		// http:// so that a local server can be checked.
		return errReply(errMediaURL)
	}
	c := &MediaCheck{TraceID: randomHex(16), AppID: appid, MediaURL: req.MediaURL, OpenID: req.OpenID, Scene: req.Scene}
	if s.mediaChecks == nil {
		s.mediaChecks = map[string]*MediaCheck{}
	}
	s.mediaChecks[c.TraceID] = c
	s.mediaOrder = append(s.mediaOrder, c.TraceID)
	return reply{"errcode": 0, "errmsg": "ok", "trace_id": c.TraceID}
}

// MediaChecks lists the checks of appid in the order they were asked.
func (s *Sandbox) MediaChecks(appid string) []MediaCheck {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []MediaCheck
	for _, id := range s.mediaOrder {
		if c := s.mediaChecks[id]; c.AppID == appid {
			out = append(out, *c)
		}
	}
	return out
}

// MarkMediaRisky makes every image whose URL contains part risky (label
// 20002, pornography) when its result is pushed; others pass.
func (s *Sandbox) MarkMediaRisky(part string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.riskyMedia = append(s.riskyMedia, part)
}

// SetPushTarget sets where appid's events are pushed (safe mode).
func (s *Sandbox) SetPushTarget(appid string, t PushTarget) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pushTargets == nil {
		s.pushTargets = map[string]PushTarget{}
	}
	s.pushTargets[appid] = t
}

// DeliverMediaChecks pushes the result of every undelivered check of
// appid to its push target, as WeChat does within 30 minutes, and returns
// how many were delivered (acknowledged with HTTP 200 and "success").
func (s *Sandbox) DeliverMediaChecks(appid string) (int, error) {
	s.mu.Lock()
	target, ok := s.pushTargets[appid]
	var due []*MediaCheck
	for _, id := range s.mediaOrder {
		if c := s.mediaChecks[id]; c.AppID == appid && !c.Delivered {
			due = append(due, c)
		}
	}
	risky := append([]string(nil), s.riskyMedia...)
	now := s.now()
	s.mu.Unlock()
	if !ok {
		return 0, fmt.Errorf("no push target for %s", appid)
	}
	n := 0
	for _, c := range due {
		if err := pushMediaResult(target, c, risky, now); err != nil {
			return n, err
		}
		s.mu.Lock()
		c.Delivered = true
		s.mu.Unlock()
		n++
	}
	return n, nil
}

// pushMediaResult sends one wxa_media_check event.
func pushMediaResult(t PushTarget, c *MediaCheck, risky []string, now time.Time) error {
	suggest, label := "pass", "100"
	for _, part := range risky {
		if part != "" && strings.Contains(c.MediaURL, part) {
			suggest, label = "risky", "20002"
		}
	}
	msg, _ := json.Marshal(map[string]any{
		"ToUserName": "gh_sandbox", "FromUserName": c.OpenID, "CreateTime": now.Unix(), "MsgType": "event",
		"Event": "wxa_media_check", "appid": c.AppID, "trace_id": c.TraceID, "version": 2,
		"detail":  []map[string]any{{"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label, "prob": 90}},
		"errcode": 0, "errmsg": "ok", "result": map[string]any{"suggest": suggest, "label": label},
	})
	q, body, err := wechat.SealPush(wechat.PushConfig{AppID: c.AppID, Token: t.Token, EncodingAESKey: t.EncodingAESKey},
		msg, strconv.FormatInt(now.Unix(), 10), randomHex(8))
	if err != nil {
		return err
	}
	res, err := http.Post(t.URL+"?"+q.Encode(), "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("push to %s: HTTP %d", t.URL, res.StatusCode)
	}
	return nil
}

func (s *Sandbox) ctlMediaChecks(body []byte) (any, error) {
	var req struct {
		AppID string `json:"appid"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	checks := s.MediaChecks(req.AppID)
	if checks == nil {
		checks = []MediaCheck{}
	}
	return reply{"checks": checks}, nil
}

func (s *Sandbox) ctlMediaRisky(body []byte) (any, error) {
	var req struct {
		URLPart string `json:"url_part"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	if req.URLPart == "" {
		return nil, fmt.Errorf("url_part is required")
	}
	s.MarkMediaRisky(req.URLPart)
	return reply{}, nil
}

func (s *Sandbox) ctlMediaDeliver(body []byte) (any, error) {
	var req struct {
		AppID          string `json:"appid"`
		URL            string `json:"url"`
		Token          string `json:"token"`
		EncodingAESKey string `json:"encoding_aes_key"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	if req.URL != "" {
		s.SetPushTarget(req.AppID, PushTarget{URL: req.URL, Token: req.Token, EncodingAESKey: req.EncodingAESKey})
	}
	n, err := s.DeliverMediaChecks(req.AppID)
	if err != nil {
		return nil, err
	}
	return reply{"delivered": n}, nil
}
