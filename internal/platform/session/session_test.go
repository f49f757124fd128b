package session

import (
	"context"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

func TestSessionLifecycle(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := NewStore(d)
		token, _, err := s.Create(ctx, Staff, 7, 0, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Lookup(ctx, Staff, token)
		if err != nil || got.SubjectID != 7 || got.ShopID != 0 {
			t.Fatalf("lookup = %+v, %v", got, err)
		}
		if _, err := s.Lookup(ctx, Member, token); !errs.Is(err, "unauthenticated") {
			t.Fatalf("a staff token must not work as a member token: %v", err)
		}
		if _, err := s.Lookup(ctx, Staff, token+"x"); !errs.Is(err, "unauthenticated") {
			t.Fatalf("a wrong token must fail: %v", err)
		}
		if err := s.Revoke(ctx, token); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Lookup(ctx, Staff, token); !errs.Is(err, "unauthenticated") {
			t.Fatalf("a revoked token must fail: %v", err)
		}
		expired, _, _ := s.Create(ctx, Member, 9, 3, -time.Second)
		if _, err := s.Lookup(ctx, Member, expired); !errs.Is(err, "unauthenticated") {
			t.Fatalf("an expired token must fail: %v", err)
		}
		if n, err := s.Sweep(ctx); err != nil || n != 1 {
			t.Fatalf("sweep removed %d (%v), want 1", n, err)
		}
		a, _, _ := s.Create(ctx, Member, 9, 3, time.Hour)
		b, _, _ := s.Create(ctx, Member, 9, 3, time.Hour)
		if n, err := s.RevokeSubject(ctx, Member, 9); err != nil || n != 2 {
			t.Fatalf("revoke subject removed %d (%v), want 2", n, err)
		}
		for _, tok := range []string{a, b} {
			if _, err := s.Lookup(ctx, Member, tok); err == nil {
				t.Fatal("a session survived RevokeSubject")
			}
		}
	})
}

// Idle sessions end; a request records itself at most once a minute; the
// list shows a subject's sessions with their public ids, never a token,
// and one is revoked by its id only by its own subject.
func TestIdleListAndRevokeByID(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clock := time.Unix(1_800_000_000, 0)
		s := NewStore(d)
		s.SetClock(func() time.Time { return clock })
		s.SetIdle(Staff, 30*time.Minute)
		first, _, err := s.CreateWith(ctx, Staff, 7, 0, time.Hour*12, Meta{Addr: "203.0.113.9", UserAgent: "agent/1"})
		if err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Second)
		second, _, err := s.Create(ctx, Staff, 7, 0, time.Hour*12)
		if err != nil {
			t.Fatal(err)
		}
		list, err := s.List(ctx, Staff, 7, second)
		if err != nil || len(list) != 2 || !list[0].Current || list[1].Current || list[1].UserAgent != "agent/1" || list[0].ID == list[1].ID {
			t.Fatalf("list = %+v, %v", list, err)
		}
		if ok, err := s.RevokeID(ctx, Staff, 8, list[1].ID); ok || err != nil {
			t.Fatalf("another subject revoking: %v %v", ok, err)
		}
		if ok, err := s.RevokeID(ctx, Staff, 7, list[1].ID); !ok || err != nil {
			t.Fatalf("revoking my own: %v %v", ok, err)
		}
		if _, err := s.Lookup(ctx, Staff, first); !errs.Is(err, "unauthenticated") {
			t.Fatalf("a revoked session: %v", err)
		}
		clock = clock.Add(29 * time.Minute)
		if _, err := s.Lookup(ctx, Staff, second); err != nil {
			t.Fatalf("29 minutes idle: %v", err)
		}
		clock = clock.Add(29 * time.Minute)
		if _, err := s.Lookup(ctx, Staff, second); err != nil {
			t.Fatalf("29 minutes after the last request: %v", err)
		}
		clock = clock.Add(31 * time.Minute)
		if _, err := s.Lookup(ctx, Staff, second); !errs.Is(err, "unauthenticated") {
			t.Fatalf("31 minutes idle: %v", err)
		}
	})
}
