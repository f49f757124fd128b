package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// LoginCode issues a wx.login code for openid (the app's stable default
// user if empty), valid once for five minutes. unionid may be empty.
func (s *Sandbox) LoginCode(appid, openid, unionid string) (string, error) {
	code, _, err := s.newLoginCode(appid, openid, unionid)
	return code, err
}

func (s *Sandbox) newLoginCode(appid, openid, unionid string) (code, id string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apps[appid]; !ok {
		return "", "", fmt.Errorf("sandbox: unknown appid %q", appid)
	}
	if openid == "" {
		openid = defaultOpenID(appid)
	}
	s.pruneCodes()
	code = randomString(codeLength)
	s.logins[code] = &loginCode{appid: appid, openid: openid, unionid: unionid, expires: s.now().Add(codeTTL)}
	s.users[appid+"\x00"+openid] = true
	return code, openid, nil
}

// HasOpenID reports whether openid is a user of the mini program appid
// (one a login code was issued for): an openid is only valid under the
// appid that issued it, which the pay sandbox checks with it (UseOpenIDs).
func (s *Sandbox) HasOpenID(appid, openid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users[appid+"\x00"+openid]
}

// PhoneCode issues a getPhoneNumber code for phone ("13800138000", or
// "+852 61234567" outside China), valid once for five minutes.
func (s *Sandbox) PhoneCode(appid, phone string) (string, error) {
	if _, _, ok := splitPhone(phone); !ok {
		return "", fmt.Errorf("sandbox: malformed phone number %q", phone)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apps[appid]; !ok {
		return "", fmt.Errorf("sandbox: unknown appid %q", appid)
	}
	s.pruneCodes()
	code := randomString(codeLength * 2)
	s.phones[code] = &phoneCode{appid: appid, phone: phone, expires: s.now().Add(codeTTL)}
	return code, nil
}

// pruneCodes forgets expired codes (they would get 40029 anyway).
func (s *Sandbox) pruneCodes() {
	now := s.now()
	for code, lc := range s.logins {
		if !now.Before(lc.expires) {
			delete(s.logins, code)
		}
	}
	for code, pc := range s.phones {
		if !now.Before(pc.expires) {
			delete(s.phones, code)
		}
	}
}

// FailNext makes the next call to the API at path (e.g.
// "/sns/jscode2session") fail with errcode. Calls queue: FailNext twice
// fails the next two calls.
func (s *Sandbox) FailNext(path string, errcode int) {
	path = "/" + strings.Trim(path, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[path] = append(s.failures[path], errcode)
}

var controlRoutes = map[string]func(s *Sandbox, body []byte) (any, error){
	"/sandbox/login-code":    (*Sandbox).ctlLoginCode,
	"/sandbox/phone-code":    (*Sandbox).ctlPhoneCode,
	"/sandbox/fail-next":     (*Sandbox).ctlFailNext,
	"/sandbox/expire-tokens": (*Sandbox).ctlExpireTokens,
	"/sandbox/hang-next":     (*Sandbox).ctlHangNext,
	"/sandbox/shipping":      (*Sandbox).ctlShipping,
}

func (s *Sandbox) serveControl(w http.ResponseWriter, r *http.Request) {
	handle, ok := controlRoutes[r.URL.Path]
	if !ok {
		writeJSON(w, http.StatusNotFound, reply{"error": "no such sandbox control"})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, reply{"error": "use POST"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, reply{"error": err.Error()})
		return
	}
	out, err := handle(s, body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, reply{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func decodeControl(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("bad JSON: %w", err)
	}
	return nil
}

func (s *Sandbox) ctlLoginCode(body []byte) (any, error) {
	var req struct {
		AppID   string `json:"appid"`
		OpenID  string `json:"openid"`
		UnionID string `json:"unionid"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	code, openid, err := s.newLoginCode(req.AppID, req.OpenID, req.UnionID)
	if err != nil {
		return nil, err
	}
	return reply{"code": code, "openid": openid}, nil
}

func (s *Sandbox) ctlPhoneCode(body []byte) (any, error) {
	var req struct {
		AppID string `json:"appid"`
		Phone string `json:"phone"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	code, err := s.PhoneCode(req.AppID, req.Phone)
	if err != nil {
		return nil, err
	}
	return reply{"code": code}, nil
}

func (s *Sandbox) ctlFailNext(body []byte) (any, error) {
	var req struct {
		Path    string `json:"path"`
		ErrCode *int   `json:"errcode"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	if _, ok := apiRoutes["/"+strings.Trim(req.Path, "/")]; !ok || req.ErrCode == nil {
		return nil, errors.New("need a known API path and an errcode")
	}
	s.FailNext(req.Path, *req.ErrCode)
	return reply{}, nil
}

func (s *Sandbox) ctlExpireTokens(body []byte) (any, error) {
	var req struct {
		AppID string `json:"appid"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	s.ExpireTokens(req.AppID)
	return reply{}, nil
}

// hangLimit bounds how long a hung call waits for its client to give up.
const hangLimit = 30 * time.Second

// HangNext makes the next call to the API at path hang, as a timeout at
// WeChat looks: no answer until the client gives up (or 30 s pass, then
// errcode -1), and no effect. Calls queue.
func (s *Sandbox) HangNext(path string) {
	path = "/" + strings.Trim(path, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hangs[path]++
}

func (s *Sandbox) popHang(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hangs[path] == 0 {
		return false
	}
	s.hangs[path]--
	return true
}

// hang waits for the client to give up (the call then fails with -1).
func (s *Sandbox) hang(r *http.Request) {
	t := time.NewTimer(hangLimit)
	defer t.Stop()
	select {
	case <-r.Context().Done():
	case <-t.C:
	}
}

func (s *Sandbox) ctlHangNext(body []byte) (any, error) {
	var req struct {
		Path string `json:"path"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	if _, ok := apiRoutes["/"+strings.Trim(req.Path, "/")]; !ok {
		return nil, errors.New("need a known API path")
	}
	s.HangNext(req.Path)
	return reply{}, nil
}

func (s *Sandbox) ctlShipping(body []byte) (any, error) {
	var req struct {
		AppID string `json:"appid"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	uploads := s.ShippingUploads(req.AppID)
	if uploads == nil {
		uploads = []ShippingUpload{}
	}
	return reply{"uploads": uploads}, nil
}
