package sandbox

import (
	"encoding/json"
	"net/http"
	"time"
)

// plainToken serves GET /cgi-bin/token. Each call issues a new token and
// revokes the previous one.
func (s *Sandbox) plainToken(r *http.Request, _ []byte) reply {
	q := r.URL.Query()
	if q.Get("grant_type") != "client_credential" {
		return errReply(errGrantType)
	}
	appid := q.Get("appid")
	if code := s.checkApp(appid, q.Get("secret")); code != 0 {
		return errReply(code)
	}
	a := s.apps[appid]
	if old, ok := s.tokens[a.plain]; ok {
		old.revoked = true
	}
	a.plain = s.issueToken(appid)
	return s.tokenReply(a, a.plain)
}

// stableToken serves POST /cgi-bin/stable_token. The current token is
// returned while more than five minutes of it remain; otherwise, or on
// force_refresh, a new one is issued and the old one stays valid for at
// most five more minutes.
func (s *Sandbox) stableToken(_ *http.Request, body []byte) reply {
	var req struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}
	if json.Unmarshal(body, &req) != nil {
		return errReply(errDataFormat)
	}
	if req.GrantType != "client_credential" {
		return errReply(errGrantType)
	}
	if code := s.checkApp(req.AppID, req.Secret); code != 0 {
		return errReply(code)
	}
	a := s.apps[req.AppID]
	now := s.now()
	cur, ok := s.tokens[a.stable]
	if ok && !req.ForceRefresh && !cur.revoked && cur.expires.Sub(now) > tokenOverlap {
		return s.tokenReply(a, a.stable)
	}
	if ok && cur.expires.After(now.Add(tokenOverlap)) {
		cur.expires = now.Add(tokenOverlap)
	}
	a.stable = s.issueToken(req.AppID)
	return s.tokenReply(a, a.stable)
}

func (s *Sandbox) issueToken(appid string) string {
	value := randomString(tokenLength)
	s.tokens[value] = &accessToken{appid: appid, expires: s.now().Add(tokenTTL)}
	return value
}

// tokenReply hands out value and counts the fetch.
func (s *Sandbox) tokenReply(a *app, value string) reply {
	a.fetches++
	left := s.tokens[value].expires.Sub(s.now()) / time.Second
	return reply{"access_token": value, "expires_in": int64(left)}
}

// ExpireTokens makes every current access token of appid expire now; calls
// using them get 42001.
func (s *Sandbox) ExpireTokens(appid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, t := range s.tokens {
		if t.appid == appid && t.expires.After(now) {
			t.expires = now
		}
	}
}

// TokenFetches reports how many times an access token was handed out for
// appid by /cgi-bin/token or /cgi-bin/stable_token (tests use it to check
// client-side caching).
func (s *Sandbox) TokenFetches(appid string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.apps[appid]; ok {
		return a.fetches
	}
	return 0
}
