package camp

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// cst makes an Asia/Shanghai time.
func cst(y int, m time.Month, d, h, min, s int) time.Time {
	return time.Date(y, m, d, h, min, s, 0, china)
}

// holdings is a fake entitlement store: member → camps held.
type holdings struct {
	mu   sync.Mutex
	held map[[2]int64]bool
	err  error
}

func (h *holdings) HoldsTarget(_ context.Context, shopID, memberID int64, kind string, id int64) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if kind != TargetKind {
		return false, nil
	}
	return h.held[[2]int64{memberID, id}], h.err
}

func (h *holdings) grant(memberID, campID int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.held[[2]int64{memberID, campID}] = true
}

// words is a fake moderator: 违禁 blocks, 待审 holds for review.
func words(_ int64, text string) string {
	switch {
	case strings.Contains(text, "违禁"):
		return VerdictBlock
	case strings.Contains(text, "待审"):
		return VerdictReview
	}
	return VerdictPass
}

type fixture struct {
	d                        *db.DB
	svc                      *Service
	clock                    *clock
	held                     *holdings
	shopA, a1, a2, shopB, b1 int64
}

func setup(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	f := &fixture{d: d, clock: &clock{t: cst(2026, 12, 7, 9, 0, 0)}, held: &holdings{held: map[[2]int64]bool{}}}
	f.svc = NewService(d, f.held, ModeratorFunc(words))
	f.svc.SetClock(f.clock.now)
	f.shopA, f.shopB = db.TestShop(t, d, "wx00000000000000a1"), db.TestShop(t, d, "wx00000000000000b1")
	f.a1, f.a2 = db.TestMember(t, d, f.shopA, "a1"), db.TestMember(t, d, f.shopA, "a2")
	f.b1 = db.TestMember(t, d, f.shopB, "b1")
	return f
}

// input is a camp of n days starting on start.
func input(start string, n int) Input {
	in := Input{Title: "21天早起营", Intro: "每天早起打卡", StartDate: start, Status: Open}
	for i := 1; i <= n; i++ {
		in.Tasks = append(in.Tasks, TaskInput{Title: "第" + strconv.Itoa(i) + "天", Body: "早起并拍照"})
	}
	return in
}

func (f *fixture) camp(t *testing.T, shopID int64, in Input) Camp {
	t.Helper()
	c, err := f.svc.Create(context.Background(), shopID, in)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) join(t *testing.T, shopID, memberID, campID int64) Enrolment {
	t.Helper()
	e, err := f.svc.Join(context.Background(), shopID, memberID, campID)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if !errs.Is(err, code) {
		t.Fatalf("got %v, want %s", err, code)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func count(t *testing.T, d *db.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The HTTP harness: the routes behind guards that read the caller from
// test headers and decide as the server's guards do (a staff role must
// grant the route's permission; the shop is the session's, never the
// request's).
const (
	staffHeader  = "X-Test-Staff"  // "<shop>:<role>"
	memberHeader = "X-Test-Member" // "<shop>:<member>"
	shopHeader   = "X-Test-Shop"   // "<shop>" for public routes
)

func pair(v string) (int64, string, bool) {
	a, b, ok := strings.Cut(v, ":")
	n, err := strconv.ParseInt(a, 10, 64)
	return n, b, ok && err == nil
}

func testGuards() httpx.Guards {
	member := func(r *http.Request) (*http.Request, error) {
		shop, id, ok := pair(r.Header.Get(memberHeader))
		m, err := strconv.ParseInt(id, 10, 64)
		if !ok || err != nil {
			return r, errs.E(errs.Unauthenticated, "unauthenticated", "log in")
		}
		return r.WithContext(auth.WithMember(r.Context(), auth.Member{ID: m, ShopID: shop})), nil
	}
	return httpx.Guards{
		Member: member,
		Shop: func(r *http.Request) (*http.Request, error) {
			if r.Header.Get(memberHeader) != "" {
				return member(r)
			}
			shop, err := strconv.ParseInt(r.Header.Get(shopHeader), 10, 64)
			if err != nil {
				return r, errs.E(errs.Invalid, "appid_required", "send the appid")
			}
			return r.WithContext(auth.WithShop(r.Context(), shop)), nil
		},
		Staff: func(r *http.Request, perm auth.Permission) (*http.Request, error) {
			shop, role, ok := pair(r.Header.Get(staffHeader))
			if !ok {
				return r, errs.E(errs.Unauthenticated, "unauthenticated", "log in")
			}
			if perm != "" && !auth.Role(role).Can(perm) {
				return r, errs.E(errs.Forbidden, "permission_denied", "your role may not do this")
			}
			return r.WithContext(auth.WithStaff(r.Context(), auth.Staff{AccountID: 7, ShopID: shop, Role: auth.Role(role)})), nil
		},
	}
}

func (f *fixture) mux() (*http.ServeMux, *httpx.API) {
	mux := http.NewServeMux()
	api := httpx.NewAPI(mux, testGuards())
	(&Handlers{Svc: f.svc}).Routes(api)
	return mux, api
}

type caller struct {
	h      http.Handler
	header [2]string
}

func (f *fixture) staff(shopID int64, role auth.Role) caller {
	mux, _ := f.mux()
	return caller{mux, [2]string{staffHeader, strconv.FormatInt(shopID, 10) + ":" + string(role)}}
}

func (f *fixture) member(shopID, memberID int64) caller {
	mux, _ := f.mux()
	return caller{mux, [2]string{memberHeader, strconv.FormatInt(shopID, 10) + ":" + strconv.FormatInt(memberID, 10)}}
}

func (f *fixture) public(shopID int64) caller {
	mux, _ := f.mux()
	return caller{mux, [2]string{shopHeader, strconv.FormatInt(shopID, 10)}}
}

// do sends body (a string is sent as is, anything else as JSON).
func (c caller) do(t *testing.T, method, path string, body any) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set(c.header[0], c.header[1])
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, req)
	return w
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %q: %v", w.Body.String(), err)
	}
	return v
}

func wantStatus(t *testing.T, w *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body.String())
	}
	if code != "" {
		if got := decode[httpx.ErrorBody](t, w).Code; got != code {
			t.Fatalf("code %q, want %q: %s", got, code, w.Body.String())
		}
	}
}

// checkIn checks in for a camp day.
func (f *fixture) checkIn(shopID, memberID, campID int64, day int, in CheckinInput) (CheckinResult, error) {
	in.Day = day
	return f.svc.CheckIn(context.Background(), shopID, memberID, campID, in)
}
