package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/platform/wechat"
)

// WeChat errcodes of subscribeMessage.send.
const (
	errTemplate   = 40037
	errSubRefused = 43101
	errArgInvalid = 47003
)

// SubscribeMessage is one subscription message the sandbox delivered.
type SubscribeMessage struct {
	MsgID      string            `json:"msg_id"`
	AppID      string            `json:"appid"`
	OpenID     string            `json:"openid"`
	TemplateID string            `json:"template_id"`
	Page       string            `json:"page"`
	Data       map[string]string `json:"data"`
	SentAt     time.Time         `json:"sent_at"`
}

// subscribeState is the sandbox's subscription-message world: templates
// per app, acceptances left per user and template, the delivery log.
type subscribeState struct {
	templates map[string][]string // appid\x00template_id → keyword keys
	quota     map[string]int      // appid\x00openid\x00template_id → acceptances left
	sent      []SubscribeMessage
}

func init() {
	apiRoutes[wechat.SubscribeSendAPI] = apiRoute{http.MethodPost, (*Sandbox).subscribeSend}
	controlRoutes["/sandbox/subscribe-template"] = (*Sandbox).ctlSubscribeTemplate
	controlRoutes["/sandbox/subscribe-accept"] = (*Sandbox).ctlSubscribeAccept
	controlRoutes["/sandbox/subscribe-messages"] = (*Sandbox).ctlSubscribeMessages
	errMessages[errTemplate] = "invalid template_id"
	errMessages[errSubRefused] = "user refuse to accept the msg"
	errMessages[errArgInvalid] = "argument invalid!"
}

func (s *Sandbox) subs() *subscribeState {
	if s.subscribe == nil {
		s.subscribe = &subscribeState{templates: map[string][]string{}, quota: map[string]int{}}
	}
	return s.subscribe
}

// AddTemplate makes templateID one of appid's subscription templates
// (添加至「我的模板」) with these keyword keys ("thing1", "amount2", …).
func (s *Sandbox) AddTemplate(appid, templateID string, keys ...string) error {
	for _, k := range keys {
		if wechat.KeywordType(k) == "" {
			return fmt.Errorf("sandbox: %q is not a keyword key", k)
		}
	}
	if templateID == "" || len(keys) == 0 {
		return errors.New("sandbox: a template needs an id and keywords")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs().templates[appid+"\x00"+templateID] = append([]string(nil), keys...)
	return nil
}

// RemoveTemplate deletes a template, as a merchant deleting it from 「我的模板」
// does: sends then get 40037.
func (s *Sandbox) RemoveTemplate(appid, templateID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.subs().templates, appid+"\x00"+templateID)
}

// Accept records that openid tapped "allow" for templateID n times
// (wx.requestSubscribeMessage answering "accept"): each acceptance lets
// one message through.
func (s *Sandbox) Accept(appid, openid, templateID string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs().quota[appid+"\x00"+openid+"\x00"+templateID] += n
}

// Quota returns how many messages of templateID openid may still receive.
func (s *Sandbox) Quota(appid, openid, templateID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.subs().quota[appid+"\x00"+openid+"\x00"+templateID]
}

// SubscribeMessages lists what was delivered to appid's users, oldest first.
func (s *Sandbox) SubscribeMessages(appid string) []SubscribeMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SubscribeMessage
	for _, m := range s.subs().sent {
		if m.AppID == appid {
			out = append(out, m)
		}
	}
	return out
}

// subscribeSend is POST /cgi-bin/message/subscribe/send: token, user,
// template, every keyword by its type's rules, then one acceptance is used.
func (s *Sandbox) subscribeSend(r *http.Request, body []byte) reply {
	appid, code := s.checkToken(r)
	if code != 0 {
		return errReply(code)
	}
	var req wechat.SubscribeMessage
	if json.Unmarshal(body, &req) != nil {
		return errReply(errDataFormat)
	}
	st := s.subs()
	keys, ok := st.templates[appid+"\x00"+req.TemplateID]
	switch {
	case req.ToUser == "" || !s.users[appid+"\x00"+req.ToUser]:
		return errReply(errInvalidOpenID)
	case !ok:
		return errReply(errTemplate)
	}
	data := map[string]string{}
	for _, k := range keys {
		v, ok := req.Data[k]
		if !ok {
			return errReplyMsg(errArgInvalid, "argument invalid! data."+k+".value is empty")
		}
		if err := wechat.CheckKeyword(k, v.Value); err != nil {
			return errReplyMsg(errArgInvalid, "argument invalid! data."+k+".value invalid")
		}
		data[k] = v.Value
	}
	qk := appid + "\x00" + req.ToUser + "\x00" + req.TemplateID
	if st.quota[qk] <= 0 {
		return errReply(errSubRefused)
	}
	st.quota[qk]--
	m := SubscribeMessage{MsgID: randomHex(10), AppID: appid, OpenID: req.ToUser, TemplateID: req.TemplateID,
		Page: req.Page, Data: data, SentAt: s.now().UTC()}
	st.sent = append(st.sent, m)
	return reply{"errcode": 0, "errmsg": "ok", "msgid": m.MsgID}
}

func (s *Sandbox) ctlSubscribeTemplate(body []byte) (any, error) {
	var req struct {
		AppID      string   `json:"appid"`
		TemplateID string   `json:"template_id"`
		Keys       []string `json:"keys"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	return reply{}, s.AddTemplate(req.AppID, req.TemplateID, req.Keys...)
}

func (s *Sandbox) ctlSubscribeAccept(body []byte) (any, error) {
	var req struct {
		AppID      string `json:"appid"`
		OpenID     string `json:"openid"`
		TemplateID string `json:"template_id"`
		Count      int    `json:"count"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	if req.Count <= 0 {
		req.Count = 1
	}
	if req.OpenID == "" {
		req.OpenID = defaultOpenID(req.AppID) // the demo buyer, as with login-code
	}
	if req.TemplateID == "" {
		return nil, errors.New("template_id is required")
	}
	s.Accept(req.AppID, req.OpenID, req.TemplateID, req.Count)
	return reply{"quota": s.Quota(req.AppID, req.OpenID, req.TemplateID)}, nil
}

func (s *Sandbox) ctlSubscribeMessages(body []byte) (any, error) {
	var req struct {
		AppID string `json:"appid"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	msgs := s.SubscribeMessages(req.AppID)
	if msgs == nil {
		msgs = []SubscribeMessage{}
	}
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].SentAt.Before(msgs[j].SentAt) })
	return reply{"messages": msgs}, nil
}

// Subscribe is a user answering wx.requestSubscribeMessage: each "accept"
// adds an acceptance, and subscribe_msg_popup_event is pushed to appid's
// push target if it has one (List an object for one template, an array
// for several, as WeChat sends it).
func (s *Sandbox) Subscribe(appid, openid string, results map[string]string) error {
	ids := make([]string, 0, len(results))
	for id := range results {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var list []map[string]any
	for _, id := range ids {
		if results[id] == "accept" {
			s.Accept(appid, openid, id, 1)
		}
		list = append(list, map[string]any{"TemplateId": id, "SubscribeStatusString": results[id], "PopupScene": "0"})
	}
	return s.pushSubscribeEvent(appid, openid, "subscribe_msg_popup_event", list)
}

// Revoke is a user turning templates off in the mini program's settings:
// their acceptances are gone and subscribe_msg_change_event is pushed.
func (s *Sandbox) Revoke(appid, openid string, templateIDs ...string) error {
	var list []map[string]any
	s.mu.Lock()
	for _, id := range templateIDs {
		delete(s.subs().quota, appid+"\x00"+openid+"\x00"+id)
		list = append(list, map[string]any{"TemplateId": id, "SubscribeStatusString": "reject"})
	}
	s.mu.Unlock()
	return s.pushSubscribeEvent(appid, openid, "subscribe_msg_change_event", list)
}

// pushSubscribeEvent sends one subscription event to appid's push target
// (nothing when it has none).
func (s *Sandbox) pushSubscribeEvent(appid, openid, event string, list []map[string]any) error {
	s.mu.Lock()
	target, ok := s.pushTargets[appid]
	now := s.now()
	s.mu.Unlock()
	if !ok || len(list) == 0 {
		return nil
	}
	var items any = list
	if len(list) == 1 {
		items = list[0]
	}
	msg, _ := json.Marshal(map[string]any{"ToUserName": "gh_sandbox", "FromUserName": openid,
		"CreateTime": strconv.FormatInt(now.Unix(), 10), "MsgType": "event", "Event": event, "List": items})
	return postPush(target, appid, msg, now)
}

// postPush seals msg for target (safe mode when it has an EncodingAESKey)
// and POSTs it, wanting HTTP 200.
func postPush(t PushTarget, appid string, msg []byte, now time.Time) error {
	ts, nonce := strconv.FormatInt(now.Unix(), 10), randomHex(8)
	cfg := wechat.PushConfig{AppID: appid, Token: t.Token, EncodingAESKey: t.EncodingAESKey}
	q, body := wechat.SignPlainPush(cfg, ts, nonce), msg
	if t.EncodingAESKey != "" {
		var err error
		if q, body, err = wechat.SealPush(cfg, msg, ts, nonce); err != nil {
			return err
		}
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
