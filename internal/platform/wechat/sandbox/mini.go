package sandbox

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

const maxCheckRunes = 2500 // msg_sec_check content limit

// jscode2session serves GET /sns/jscode2session: a login code is valid once,
// for five minutes, for the app it was issued to.
func (s *Sandbox) jscode2session(r *http.Request, _ []byte) reply {
	q := r.URL.Query()
	appid := q.Get("appid")
	if code := s.checkApp(appid, q.Get("secret")); code != 0 {
		return errReply(code)
	}
	if q.Get("grant_type") != "authorization_code" {
		return errReply(errGrantType)
	}
	jsCode := q.Get("js_code")
	if jsCode == "" {
		return errReply(errMissingCode)
	}
	lc, ok := s.logins[jsCode]
	switch {
	case !ok || lc.appid != appid:
		return errReply(errInvalidCode)
	case lc.used:
		return errReply(errCodeUsed)
	case !s.now().Before(lc.expires):
		return errReply(errInvalidCode)
	}
	lc.used = true
	key := sessionKey()
	s.rememberSession(appid, lc.openid, key) // xpay signatures are checked with it
	out := reply{"openid": lc.openid, "session_key": key}
	if lc.unionid != "" {
		out["unionid"] = lc.unionid
	}
	return out
}

// phoneNumber serves POST /wxa/business/getuserphonenumber. countryCode
// alternates between a JSON string and a number, as both occur in the wild.
func (s *Sandbox) phoneNumber(r *http.Request, body []byte) reply {
	appid, code := s.checkToken(r)
	if code != 0 {
		return errReply(code)
	}
	var req struct {
		Code string `json:"code"`
	}
	if json.Unmarshal(body, &req) != nil {
		return errReply(errDataFormat)
	}
	if req.Code == "" {
		return errReply(errMissingCode)
	}
	pc, ok := s.phones[req.Code]
	if !ok || pc.used || pc.appid != appid || !s.now().Before(pc.expires) {
		return errReply(errInvalidCode)
	}
	pc.used = true
	s.phoneCalls++
	country, pure, _ := splitPhone(pc.phone)
	var countryCode any = country
	if s.phoneCalls%2 == 0 {
		countryCode, _ = strconv.Atoi(country)
	}
	return reply{"errcode": 0, "errmsg": "ok", "phone_info": reply{
		"phoneNumber":     pc.phone,
		"purePhoneNumber": pure,
		"countryCode":     countryCode,
		"watermark":       reply{"timestamp": s.now().Unix(), "appid": appid},
	}}
}

// splitPhone parses "13800138000" (China) or "+852 61234567" into a
// country code and the national number.
func splitPhone(phone string) (country, pure string, ok bool) {
	country, pure = "86", phone
	if rest, intl := strings.CutPrefix(phone, "+"); intl {
		country, pure, ok = strings.Cut(rest, " ")
		if !ok {
			return "", "", false
		}
	}
	return country, pure, isDigits(country) && isDigits(pure)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// keyword is one row of the msg_sec_check keyword table.
type keyword struct {
	word    string
	suggest string
	label   int
}

// keywords drive msg_sec_check; the first risky hit wins over review hits.
var keywords = []keyword{
	{"赌博", "risky", 20006},
	{"诈骗", "risky", 20008},
	{"色情", "risky", 20002},
	{"加微信", "review", 10001},
}

// msgSecCheck serves POST /wxa/msg_sec_check (version 2).
func (s *Sandbox) msgSecCheck(r *http.Request, body []byte) reply {
	if _, code := s.checkToken(r); code != 0 {
		return errReply(code)
	}
	var req struct {
		Version int    `json:"version"`
		OpenID  string `json:"openid"`
		Scene   int    `json:"scene"`
		Content string `json:"content"`
	}
	if json.Unmarshal(body, &req) != nil {
		return errReply(errDataFormat)
	}
	if bad := checkSecRequest(req.Version, req.OpenID, req.Scene, req.Content); bad != nil {
		return bad
	}
	verdict, details := classify(req.Content)
	return reply{
		"errcode":  0,
		"errmsg":   "ok",
		"trace_id": randomHex(16),
		"result":   reply{"suggest": verdict.suggest, "label": verdict.label},
		"detail":   details,
	}
}

// checkSecRequest returns an error reply for invalid msg_sec_check input.
func checkSecRequest(version int, openid string, scene int, content string) reply {
	switch {
	case version != 2:
		return errReplyMsg(errInvalidArgs, "invalid args: version must be 2")
	case openid == "":
		return errReply(errInvalidOpenID)
	case scene < 1 || scene > 4:
		return errReplyMsg(errInvalidArgs, "invalid args: scene must be 1..4")
	case content == "":
		return errReplyMsg(errInvalidArgs, "invalid args: content is empty")
	case utf8.RuneCountInString(content) > maxCheckRunes:
		return errReplyMsg(errDataFormat, "data format error: content exceeds 2500 characters")
	}
	return nil
}

// classify applies the keyword table: risky beats review beats pass.
func classify(content string) (keyword, []reply) {
	verdict := keyword{suggest: "pass", label: 100}
	var details []reply
	for _, k := range keywords {
		if !strings.Contains(content, k.word) {
			continue
		}
		details = append(details, reply{"strategy": "keyword", "errcode": 0,
			"suggest": k.suggest, "label": k.label, "keyword": k.word, "prob": 90})
		if verdict.suggest == "pass" || (verdict.suggest == "review" && k.suggest == "risky") {
			verdict = k
		}
	}
	if details == nil {
		details = []reply{{"strategy": "content_model", "errcode": 0, "suggest": "pass", "label": 100, "prob": 90}}
	}
	return verdict, details
}
