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
