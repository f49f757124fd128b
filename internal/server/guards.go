package server

import (
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kaidian/kaidian/internal/account"
	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// refererAppID finds the appid in the Referer WeChat sets on wx.request:
// https://servicewechat.com/{appid}/{version}/page-frame.html
var refererAppID = regexp.MustCompile(`^https://servicewechat\.com/(wx[0-9a-f]{16})/`)

// requestAppID is the mini program a request comes from: the X-Appid
// header, or WeChat's Referer.
func requestAppID(r *http.Request) string {
	if id := r.Header.Get("X-Appid"); id != "" {
		return id
	}
	if m := refererAppID.FindStringSubmatch(r.Header.Get("Referer")); m != nil {
		return m[1]
	}
	return ""
}

func (s *Server) guards() httpx.Guards {
	return httpx.Guards{Shop: s.shopGuard, Member: s.memberGuard, MemberHot: s.memberGuardHot, Staff: s.staffGuard,
		StepUp: func(r *http.Request, required bool) (*http.Request, error) {
			return s.Accounts.StepUpGuard(r, required)
		}}
}

// shopGuard serves a public mini-program route: a member's session names
// the shop, otherwise the appid does.
func (s *Server) shopGuard(r *http.Request) (*http.Request, error) {
	if _, ok := httpx.BearerToken(r); ok {
		return s.memberGuard(r)
	}
	appid := requestAppID(r)
	if appid == "" {
		return r, errs.E(errs.Invalid, "appid_required", "send the mini program's appid in X-Appid")
	}
	sh, err := s.Shops.ByAppID(r.Context(), appid)
	if err != nil {
		return r, err
	}
	return r.WithContext(auth.WithShop(r.Context(), sh.ID)), nil
}

// memberGuard needs a buyer session of an enabled shop.
func (s *Server) memberGuard(r *http.Request) (*http.Request, error) {
	tok, _ := httpx.BearerToken(r)
	m, err := s.Members.Authenticate(r.Context(), tok)
	if err != nil {
		return r, err
	}
	sh, err := s.Shops.Enabled(r.Context(), m.ShopID)
	if err != nil {
		return r, errs.E(errs.Unauthenticated, "unauthenticated", "this shop is disabled")
	}
	if appid := requestAppID(r); appid != "" && appid != sh.AppID {
		return r, errs.E(errs.Forbidden, "shop_mismatch", "the session belongs to another mini program")
	}
	return r.WithContext(auth.WithMember(r.Context(), m)), nil
}

// memberGuardHot is memberGuard with the session taken from a
// one-second cache: a burst of flash-sale claims does not look every
// session up in the database. A logout here evicts at once; one on
// another server takes effect here within the second.
func (s *Server) memberGuardHot(r *http.Request) (*http.Request, error) {
	tok, _ := httpx.BearerToken(r)
	if m, ok := s.hotSessions.get(tok, time.Now()); ok {
		if appid := requestAppID(r); appid != "" && appid != m.appid {
			return r, errs.E(errs.Forbidden, "shop_mismatch", "the session belongs to another mini program")
		}
		return r.WithContext(auth.WithMember(r.Context(), m.member)), nil
	}
	r2, err := s.memberGuard(r)
	if err != nil {
		return r2, err
	}
	m, _ := auth.MemberFrom(r2.Context())
	if sh, err := s.Shops.Enabled(r.Context(), m.ShopID); err == nil {
		s.hotSessions.put(tok, hotMember{member: m, appid: sh.AppID}, time.Now())
	}
	return r2, nil
}

// hotSessionCache holds recently checked buyer sessions for a second.
type hotSessionCache struct {
	mu sync.RWMutex
	m  map[string]hotMember
}

type hotMember struct {
	member auth.Member
	appid  string
	until  time.Time
}

const hotSessionTTL = time.Second

func (c *hotSessionCache) get(tok string, now time.Time) (hotMember, bool) {
	c.mu.RLock()
	m, ok := c.m[tok]
	c.mu.RUnlock()
	return m, ok && now.Before(m.until)
}

func (c *hotSessionCache) put(tok string, m hotMember, now time.Time) {
	m.until = now.Add(hotSessionTTL)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= 500_000 {
		c.m = make(map[string]hotMember) // bounded: start over rather than grow without end
	}
	c.m[tok] = m
	c.mu.Unlock()
}

// forget drops one token, or with token "" every session of memberID.
func (c *hotSessionCache) forget(tok string, memberID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if tok != "" {
		delete(c.m, tok)
		return
	}
	for k, m := range c.m {
		if m.member.ID == memberID {
			delete(c.m, k)
		}
	}
}

// staffGuard needs an admin session whose role grants perm. Shop-scoped
// permissions need a shop: staff act on their own; operators pick one with
// X-Shop-Id.
func (s *Server) staffGuard(r *http.Request, perm auth.Permission) (*http.Request, error) {
	if !account.CheckCSRF(r) {
		return r, errs.E(errs.Forbidden, "csrf_failed", "send the X-CSRF-Token header with cookie sessions")
	}
	st, err := s.Accounts.Authenticate(r.Context(), account.SessionToken(r))
	if err != nil {
		return r, err
	}
	if st.Role == auth.RoleAgency {
		return s.agencyGuard(r, st, perm)
	}
	if perm != "" && !st.Role.Can(perm) {
		return r, errs.E(errs.Forbidden, "permission_denied", "your role may not do this ("+string(perm)+")")
	}
	if st.Role == auth.RoleOperator {
		if st.ShopID, err = s.operatorShop(r); err != nil {
			return r, err
		}
	}
	if perm != "" && perm != auth.PermShops && st.ShopID == 0 {
		return r, errs.E(errs.Invalid, "shop_required", "operators choose the shop to act on with the X-Shop-Id header")
	}
	return r.WithContext(auth.WithStaff(r.Context(), st)), nil
}

// agencyGuard admits an agency login: X-Shop-Id must name a shop granted
// to it (else 403 shop_not_granted, whether or not the shop exists), which
// it then acts on with the role granted there. Without X-Shop-Id it may
// only do what needs no shop (who am I, my shops, log out).
func (s *Server) agencyGuard(r *http.Request, st auth.Staff, perm auth.Permission) (*http.Request, error) {
	st.Agency = true
	if v := r.Header.Get("X-Shop-Id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return r, errs.Field("X-Shop-Id", "invalid_shop", "X-Shop-Id must be a shop id")
		}
		role, ok, err := s.Agencies.RoleIn(r.Context(), st.AccountID, id)
		if err != nil {
			return r, err
		}
		if !ok {
			return r, errs.E(errs.Forbidden, "shop_not_granted", "this login may not act on that shop")
		}
		st.ShopID, st.Role = id, role
		if st.MustEnrol, err = s.Accounts.MustEnrol(r.Context(), st); err != nil { // the role acted with decides
			return r, err
		}
	}
	if perm != "" && st.ShopID == 0 {
		if perm == auth.PermShops {
			return r, errs.E(errs.Forbidden, "permission_denied", "your role may not do this ("+string(perm)+")")
		}
		return r, errs.E(errs.Invalid, "shop_required", "choose the shop to act on with the X-Shop-Id header (GET /admin/api/v1/me/shops lists them)")
	}
	if perm != "" && !st.Role.Can(perm) {
		return r, errs.E(errs.Forbidden, "permission_denied", "your role may not do this ("+string(perm)+")")
	}
	return r.WithContext(auth.WithStaff(r.Context(), st)), nil
}

func (s *Server) operatorShop(r *http.Request) (int64, error) {
	v := r.Header.Get("X-Shop-Id")
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.Field("X-Shop-Id", "invalid_shop", "X-Shop-Id must be a shop id")
	}
	if _, err := s.Shops.Get(r.Context(), id); err != nil {
		return 0, err
	}
	return id, nil
}

// clientIP is the caller's address: the connection's, or with TrustProxy
// the last address the load balancer appended to X-Forwarded-For.
func (s *Server) clientIP(r *http.Request) string {
	if s.cfg.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			return strings.TrimSpace(parts[len(parts)-1])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
