package content

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/blob"
	"github.com/kaidian/kaidian/internal/platform/db"
)

type hook struct {
	mu   sync.Mutex
	got  []Reminder
	fail error
}

func (h *hook) on(_ context.Context, tx *db.Tx, r Reminder) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if tx == nil {
		return errors.New("no transaction")
	}
	if h.fail != nil {
		return h.fail
	}
	h.got = append(h.got, r)
	return nil
}

func (h *hook) take() []Reminder {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.got
	h.got = nil
	return out
}

func TestRemindersOncePerOffset(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		h := &hook{}
		f.svc.OnReminder = h.on
		plan := ok[Plan](t)(f.svc.SavePlan(ctx, f.shopA, 0, PlanInput{Name: "月卡", Period: "month", PriceFen: 1000, ForSale: true, Status: "published"}))
		c := f.course(t, f.shopA, 100)
		// 2026-12-07 10:00 Shanghai: a1's month ends 2027-01-06 10:00.
		f.clock.set(time.Date(2026, 12, 7, 10, 0, 0, 0, china))
		e, _ := f.grant(t, f.shopA, f.a1, KindPlan, plan.ID, "m1", 30)
		f.grant(t, f.shopA, f.a2, KindPlan, plan.ID, "m2", 30)
		f.grant(t, f.shopA, f.a2, KindCourse, c.ID, "c2", 30) // a course: never reminded
		ok[Entitlement](t)(f.revoke(t, f.shopA, "m2", "refund"))
		run := func(at time.Time) []Reminder {
			t.Helper()
			f.clock.set(at)
			ok[int](t)(f.svc.SendReminders(ctx))
			return h.take()
		}
		if got := run(time.Date(2026, 12, 29, 23, 59, 0, 0, china)); len(got) != 0 {
			t.Fatalf("D-7 is Dec 30 (the end's day Jan 6): %+v", got)
		}
		// Without a hook nothing is recorded as sent.
		f.svc.OnReminder = nil
		run(time.Date(2026, 12, 30, 0, 0, 30, 0, china))
		if n := count(t, d, `SELECT COUNT(*) FROM content_reminders`); n != 0 {
			t.Fatalf("%d reminders recorded without a hook", n)
		}
		f.svc.OnReminder = h.on
		got := run(time.Date(2026, 12, 29, 23, 59, 0, 0, china).Add(2 * time.Minute)) // Dec 30, 00:01
		if len(got) != 1 || got[0].DaysLeft != 7 || got[0].EntitlementID != e.ID || got[0].MemberID != f.a1 || !got[0].EndsAt.Equal(*e.EndsAt) {
			t.Fatalf("D-7: %+v", got)
		}
		if got := run(time.Date(2026, 12, 30, 20, 0, 0, 0, china)); len(got) != 0 {
			t.Fatalf("again the same day: %+v", got)
		}
		h.fail = errors.New("the channel is down")
		f.clock.set(time.Date(2027, 1, 3, 8, 0, 0, 0, china))
		if _, err := f.svc.SendReminders(ctx); err == nil {
			t.Fatal("a failing hook reported no error")
		}
		h.fail = nil
		if got := run(time.Date(2027, 1, 3, 9, 0, 0, 0, china)); len(got) != 1 || got[0].DaysLeft != 3 {
			t.Fatalf("D-3 after a failed run: %+v", got)
		}
		if got := run(time.Date(2027, 1, 5, 9, 0, 0, 0, china)); len(got) != 1 || got[0].DaysLeft != 1 {
			t.Fatalf("D-1: %+v", got)
		}
		if got := run(time.Date(2027, 1, 7, 9, 0, 0, 0, china)); len(got) != 1 || got[0].DaysLeft != -1 {
			t.Fatalf("D+1: %+v", got)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM content_reminders WHERE entitlement_id = ?`, e.ID); n != 4 {
			t.Fatalf("%d reminder rows", n)
		}
		// A member who renewed gets no reminder for the period renewed.
		f.clock.set(time.Date(2027, 2, 1, 10, 0, 0, 0, china))
		f.grant(t, f.shopA, f.a2, KindPlan, plan.ID, "m3", 30) // ends Mar 3
		f.grant(t, f.shopA, f.a2, KindPlan, plan.ID, "m4", 30) // renewed before: ends Apr 2
		if got := run(time.Date(2027, 2, 24, 9, 0, 0, 0, china)); len(got) != 0 {
			t.Fatalf("renewed, D-7 of the first period: %+v", got)
		}
		if got := run(time.Date(2027, 3, 26, 9, 0, 0, 0, china)); len(got) != 1 || got[0].MemberID != f.a2 {
			t.Fatalf("D-7 of the renewed end: %+v", got)
		}
	})
}

func TestSignedMediaURLs(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		store := ok[*blob.Local](t)(blob.NewLocal(t.TempDir()))
		f.svc.store = store
		key := fmt.Sprintf("shop/%d/audio.mp3", f.shopA)
		data := bytes.Repeat([]byte("0123456789"), 100) // 1000 bytes
		if err := store.Put(ctx, key, "audio/mpeg", bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
		c := f.course(t, f.shopA, 100)
		l := ok[Lesson](t)(f.svc.CreateLesson(ctx, f.shopA, c.ID, LessonInput{Kind: "audio", Title: "音频", MediaKey: key, DurationSec: 100, PreviewSec: 10, Status: "published"}))
		vod := ok[Lesson](t)(f.svc.CreateLesson(ctx, f.shopA, c.ID, LessonInput{Kind: "video", Title: "视频", MediaURL: "https://vod.example.com/v.m3u8", DurationSec: 100, Status: "published"}))
		fetch := func(u, rng string) *httptest.ResponseRecorder {
			t.Helper()
			tok := strings.TrimPrefix(u, "/api/v1/content/media/")
			r := httptest.NewRequest("GET", u, nil)
			if rng != "" {
				r.Header.Set("Range", rng)
			}
			w := httptest.NewRecorder()
			if err := f.svc.ServeMedia(w, r, tok); err != nil {
				w.Code = 0
				w.Body = bytes.NewBufferString(err.Error())
			}
			return w
		}
		// Locked: the preview's share of the file only; the VOD URL not at all.
		pre := ok[BuyerLesson](t)(f.svc.BuyerLesson(ctx, f.shopA, f.a1, l.ID))
		if !pre.Locked || pre.MediaURL == "" {
			t.Fatalf("preview: %+v", pre)
		}
		if w := fetch(pre.MediaURL, ""); w.Code != 200 || w.Body.Len() != 100 {
			t.Fatalf("preview served %d bytes (status %d)", w.Body.Len(), w.Code)
		}
		if v := ok[BuyerLesson](t)(f.svc.BuyerLesson(ctx, f.shopA, f.a1, vod.ID)); !v.Locked || v.MediaURL != "" {
			t.Fatalf("locked VOD shows its URL: %+v", v)
		}
		f.grant(t, f.shopA, f.a1, KindCourse, c.ID, "o1", 0)
		full := ok[BuyerLesson](t)(f.svc.BuyerLesson(ctx, f.shopA, f.a1, l.ID))
		if full.Locked || full.MediaUntil == nil {
			t.Fatalf("full: %+v", full)
		}
		if w := fetch(full.MediaURL, "bytes=990-"); w.Code != http.StatusPartialContent || w.Body.String() != "0123456789" {
			t.Fatalf("range: %d %q", w.Code, w.Body.String())
		}
		if v := ok[BuyerLesson](t)(f.svc.BuyerLesson(ctx, f.shopA, f.a1, vod.ID)); v.MediaURL != "https://vod.example.com/v.m3u8" {
			t.Fatalf("VOD with access: %+v", v)
		}
		// Tampered and expired links.
		tok := strings.TrimPrefix(full.MediaURL, "/api/v1/content/media/")
		if _, err := f.svc.parseToken(tok[:len(tok)-2] + "xx"); err != errLinkInvalid {
			t.Fatalf("tampered: %v", err)
		}
		old := f.svc.token(mediaLink{shopID: f.shopA, key: key, expires: time.Now().Add(-time.Second).Unix(), permille: 1000})
		if _, err := f.svc.parseToken(old); err != errLinkExpired {
			t.Fatalf("expired: %v", err)
		}
	})
}
