package sandbox

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/platform/wechat"
)

// The Official Account (公众号) part of the sandbox. An OA is an app like
// a mini program (AddApp: its appid and secret, tokens from
// /cgi-bin/stable_token), with:
//
//	POST /cgi-bin/message/template/send  token, template (AddOATemplate),
//	     follower (40003 unknown openid, 43004 not following), keywords by
//	     type (47003); delivered messages in OAMessages; a client_msg_id
//	     repeated to the same user within 10 minutes is answered ok and not
//	     delivered again, as WeChat does
//	GET  /cgi-bin/user/info              {openid, subscribe, unionid (only while following)}
//
// Followers come and go with Follow / Unfollow, which push the subscribe /
// unsubscribe event to the OA's push target (SetPushTarget with the OA's
// appid: the shop's /webhooks/wechat/{id}/oa-push and its Token).
//
// Controls (POST, JSON):
//
//	/sandbox/oa-template  {"appid","template_id","keys"}               → {}
//	/sandbox/oa-follow    {"appid","openid","unionid"?,"following"}     → {} (and the event pushed)
//	/sandbox/oa-messages  {"appid"}                                    → {"messages":[OAMessage]}

// OA errcodes.
const errOANotFollowing = 43004

// OAMessage is one template message the sandbox delivered.
type OAMessage struct {
	MsgID       string            `json:"msg_id"`
	AppID       string            `json:"appid"`
	OpenID      string            `json:"openid"`
	TemplateID  string            `json:"template_id"`
	MiniAppID   string            `json:"mini_appid"`
	PagePath    string            `json:"pagepath"`
	ClientMsgID string            `json:"client_msg_id"`
	Data        map[string]string `json:"data"`
	SentAt      time.Time         `json:"sent_at"`
}

type oaFollower struct {
	unionid   string
	following bool
}

type oaState struct {
	templates map[string][]string    // appid\x00template_id → keyword keys
	followers map[string]*oaFollower // appid\x00openid
	sent      []OAMessage
	clientIDs map[string]int // appid\x00openid\x00client_msg_id → index in sent
}

// clientMsgTTL is how long WeChat drops a repeated client_msg_id to the
// same user (防重入: 10 minutes).
const clientMsgTTL = 10 * time.Minute

func init() {
	apiRoutes[wechat.OATemplateSendAPI] = apiRoute{http.MethodPost, (*Sandbox).oaTemplateSend}
	apiRoutes[wechat.OAUserInfoAPI] = apiRoute{http.MethodGet, (*Sandbox).oaUserInfo}
	controlRoutes["/sandbox/oa-template"] = (*Sandbox).ctlOATemplate
	controlRoutes["/sandbox/oa-follow"] = (*Sandbox).ctlOAFollow
	controlRoutes["/sandbox/oa-messages"] = (*Sandbox).ctlOAMessages
	errMessages[errOANotFollowing] = "require subscribe"
}

func (s *Sandbox) oaWorld() *oaState {
	if s.oa == nil {
		s.oa = &oaState{templates: map[string][]string{}, followers: map[string]*oaFollower{}, clientIDs: map[string]int{}}
	}
	return s.oa
}

// AddOATemplate makes templateID one of the OA's templates with these
// keyword keys.
func (s *Sandbox) AddOATemplate(appid, templateID string, keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oaWorld().templates[appid+"\x00"+templateID] = append([]string(nil), keys...)
}

// Follow makes openid a follower of the OA (with unionid) and pushes the
// subscribe event to the OA's push target, if it has one.
func (s *Sandbox) Follow(appid, openid, unionid string) error {
	s.mu.Lock()
	s.oaWorld().followers[appid+"\x00"+openid] = &oaFollower{unionid: unionid, following: true}
	s.mu.Unlock()
	return s.pushOAEvent(appid, openid, "subscribe")
}

// Unfollow makes openid stop following and pushes the unsubscribe event.
func (s *Sandbox) Unfollow(appid, openid string) error {
	s.mu.Lock()
	if f, ok := s.oaWorld().followers[appid+"\x00"+openid]; ok {
		f.following = false
	}
	s.mu.Unlock()
	return s.pushOAEvent(appid, openid, "unsubscribe")
}

func (s *Sandbox) pushOAEvent(appid, openid, event string) error {
	s.mu.Lock()
	target, ok := s.pushTargets[appid]
	now := s.now()
	s.mu.Unlock()
	if !ok {
		return nil
	}
	msg, _ := json.Marshal(map[string]any{"ToUserName": "gh_sandbox_oa", "FromUserName": openid,
		"CreateTime": strconv.FormatInt(now.Unix(), 10), "MsgType": "event", "Event": event})
	return postPush(target, appid, msg, now)
}

// OAMessages lists what the OA delivered, oldest first.
func (s *Sandbox) OAMessages(appid string) []OAMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []OAMessage
	for _, m := range s.oaWorld().sent {
		if m.AppID == appid {
			out = append(out, m)
		}
	}
	return out
}

// oaTemplateSend is POST /cgi-bin/message/template/send.
func (s *Sandbox) oaTemplateSend(r *http.Request, body []byte) reply {
	appid, code := s.checkToken(r)
	if code != 0 {
		return errReply(code)
	}
	var req wechat.OATemplateMessage
	if json.Unmarshal(body, &req) != nil {
		return errReply(errDataFormat)
	}
	st := s.oaWorld()
	f, known := st.followers[appid+"\x00"+req.ToUser]
	keys, ok := st.templates[appid+"\x00"+req.TemplateID]
	switch {
	case !known:
		return errReply(errInvalidOpenID)
	case !f.following:
		return errReply(errOANotFollowing)
	case !ok:
		return errReply(errTemplate)
	}
	ck := appid + "\x00" + req.ToUser + "\x00" + req.ClientMsgID
	if i, ok := st.clientIDs[ck]; ok && req.ClientMsgID != "" && s.now().Sub(st.sent[i].SentAt) < clientMsgTTL {
		return reply{"errcode": 0, "errmsg": "ok", "msgid": st.sent[i].MsgID} // a repeat: not delivered again
	}
	data := map[string]string{}
	for _, k := range keys {
		v, ok := req.Data[k]
		if !ok || wechat.CheckKeyword(k, v.Value) != nil {
			return errReplyMsg(errArgInvalid, "argument invalid! data."+k+".value invalid")
		}
		data[k] = v.Value
	}
	m := OAMessage{MsgID: randomHex(10), AppID: appid, OpenID: req.ToUser, TemplateID: req.TemplateID,
		ClientMsgID: req.ClientMsgID, Data: data, SentAt: s.now().UTC()}
	if req.Miniprogram != nil {
		m.MiniAppID, m.PagePath = req.Miniprogram.AppID, req.Miniprogram.PagePath
	}
	if req.ClientMsgID != "" {
		st.clientIDs[ck] = len(st.sent)
	}
	st.sent = append(st.sent, m)
	return reply{"errcode": 0, "errmsg": "ok", "msgid": m.MsgID}
}

// oaUserInfo is GET /cgi-bin/user/info.
func (s *Sandbox) oaUserInfo(r *http.Request, _ []byte) reply {
	appid, code := s.checkToken(r)
	if code != 0 {
		return errReply(code)
	}
	openid := r.URL.Query().Get("openid")
	f, ok := s.oaWorld().followers[appid+"\x00"+openid]
	if !ok {
		return errReply(errInvalidOpenID)
	}
	if !f.following {
		return reply{"subscribe": 0, "openid": openid}
	}
	return reply{"subscribe": 1, "openid": openid, "unionid": f.unionid, "language": "zh_CN"}
}

func (s *Sandbox) ctlOATemplate(body []byte) (any, error) {
	var req struct {
		AppID      string   `json:"appid"`
		TemplateID string   `json:"template_id"`
		Keys       []string `json:"keys"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	if req.AppID == "" || req.TemplateID == "" || len(req.Keys) == 0 {
		return nil, errors.New("appid, template_id and keys are required")
	}
	s.AddOATemplate(req.AppID, req.TemplateID, req.Keys...)
	return reply{}, nil
}

func (s *Sandbox) ctlOAFollow(body []byte) (any, error) {
	var req struct {
		AppID     string `json:"appid"`
		OpenID    string `json:"openid"`
		UnionID   string `json:"unionid"`
		Following bool   `json:"following"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	if req.AppID == "" || req.OpenID == "" {
		return nil, errors.New("appid and openid are required")
	}
	if req.Following {
		return reply{}, s.Follow(req.AppID, req.OpenID, req.UnionID)
	}
	return reply{}, s.Unfollow(req.AppID, req.OpenID)
}

func (s *Sandbox) ctlOAMessages(body []byte) (any, error) {
	var req struct {
		AppID string `json:"appid"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	msgs := s.OAMessages(req.AppID)
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].SentAt.Before(msgs[j].SentAt) })
	if msgs == nil {
		msgs = []OAMessage{}
	}
	return reply{"messages": msgs}, nil
}
