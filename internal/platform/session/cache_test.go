package session

import (
	"context"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// TestCachedSessionsEnd: a buyer session is served from the cache, a logout
// or revocation ends it at once in the same process, and another process
// (another Store on the same database) stops accepting it within CacheTTL.
func TestCachedSessionsEnd(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		here, there := NewStore(d), NewStore(d)
		live := func(s *Store, token string) bool {
			t.Helper()
			_, err := s.Lookup(ctx, Member, token)
			if err != nil && !errs.Is(err, "unauthenticated") {
				t.Fatal(err)
			}
			return err == nil
		}
		a, _, err := here.Create(ctx, Member, 1, 1, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		b, _, _ := here.Create(ctx, Member, 1, 1, time.Hour)
		c, _, _ := here.Create(ctx, Member, 2, 1, time.Hour)
		for _, tok := range []string{a, b, c} {
			if !live(here, tok) || !live(there, tok) {
				t.Fatal("a new session must be live in both processes")
			}
		}
		// Served from the cache: the row is gone behind the store's back.
		if _, err := d.Exec(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hash(c)); err != nil {
			t.Fatal(err)
		}
		if !live(here, c) {
			t.Fatal("a looked-up session should be cached")
		}
		if err := here.Revoke(ctx, a); err != nil {
			t.Fatal(err)
		}
		if _, err := here.RevokeSubject(ctx, Member, 1); err != nil {
			t.Fatal(err)
		}
		if live(here, a) || live(here, b) {
			t.Fatal("revoked sessions must end at once in the process that revoked them")
		}
		time.Sleep(CacheTTL)
		for _, tok := range []string{a, b, c} {
			if live(there, tok) || live(here, tok) {
				t.Fatalf("a revoked session is still live after %s", CacheTTL)
			}
		}
	})
}
