package member

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/wechat"
)

func TestSourceResolved(t *testing.T) {
	for _, c := range []struct {
		in   Source
		want Source
	}{
		{Source{}, Source{Kind: SourceOther}},
		{Source{Scene: "g=12&p=34"}, Source{Kind: SourcePromoter, Ref: "34"}},
		{Source{Scene: "p=34", LaunchScene: 1047}, Source{Kind: SourcePromoter, Ref: "34"}},
		{Source{Scene: "g=12", LaunchScene: 1047}, Source{Kind: SourcePoster, Ref: "g=12"}},
		{Source{Scene: "g=12&p=-1", LaunchScene: 1007}, Source{Kind: SourceShare, Ref: "g=12&p=-1"}},
		{Source{LaunchScene: 1053}, Source{Kind: SourceSearch}},
		{Source{LaunchScene: 1045}, Source{Kind: SourceCampaign}},
		{Source{LaunchScene: 1001}, Source{Kind: SourceOther}},
		{Source{Kind: SourceCampaign, Ref: "双11", LaunchScene: 1007}, Source{Kind: SourceCampaign, Ref: "双11"}},
		{Source{Kind: SourcePromoter, Ref: "9"}, Source{Kind: SourcePromoter, Ref: "9"}},
		{Source{Kind: SourcePromoter, Ref: "abc"}, Source{Kind: SourceOther}},
	} {
		if got := c.in.Resolved(); got != c.want {
			t.Errorf("%+v: got %+v, want %+v", c.in, got, c.want)
		}
	}
	for _, bad := range []Source{{Kind: "tv"}, {Ref: strings.Repeat("x", 65)}, {Scene: "a\x01"}, {LaunchScene: -1}, {LaunchScene: 100000}} {
		if err := bad.Validate(); !errs.Is(err, "invalid_source") {
			t.Errorf("%+v: %v, want invalid_source", bad, err)
		}
	}
}

type promoters map[[2]int64]bool

func (p promoters) PromoterExists(_ context.Context, shopID, id int64) (bool, error) {
	return p[[2]int64{shopID, id}], nil
}

func newShop(t *testing.T, d *db.DB, appid string) int64 {
	t.Helper()
	var id int64
	if err := d.QueryRow(context.Background(), `INSERT INTO shops (name, appid, subject_type, created_at, updated_at) VALUES (?, ?, 'enterprise', 0, 0) RETURNING id`,
		"店"+appid, appid).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// The source is set by the first login and never changed by later ones; a
// promoter of another shop is not recorded.
func TestSourceIsKeptFromTheFirstLogin(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shopA, shopB := newShop(t, d, "wx0000000000000ma1"), newShop(t, d, "wx0000000000000mb1")
		s := NewService(d, nil, nil, nil)
		s.SetPromoters(promoters{{shopA, 34}: true, {shopB, 77}: true})
		login := func(shopID int64, openid string, src Source) StaffMember {
			t.Helper()
			m, _, err := s.upsert(ctx, shopID, wechat.Session{OpenID: openid}, s.checkPromoter(ctx, shopID, src))
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.GetStaff(ctx, shopID, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		first := login(shopA, "o1", Source{Scene: "g=1&p=34", LaunchScene: 1007})
		if first.SourceKind != "promoter" || first.SourceRef != "34" || first.LastLoginAt.IsZero() {
			t.Fatal(first)
		}
		again := login(shopA, "o1", Source{Kind: SourceCampaign, Ref: "later"})
		if again.SourceKind != "promoter" || again.SourceRef != "34" {
			t.Fatal("a later login changed the source", again)
		}
		if other := login(shopA, "o2", Source{Scene: "p=77"}); other.SourceKind != "other" || other.SourceRef != "" {
			t.Fatal("shop B's promoter recorded in shop A", other)
		}
		if plain := login(shopA, "o3", Source{}); plain.SourceKind != "other" {
			t.Fatal(plain)
		}
		// The buyer's own view carries no source.
		me, _ := s.Get(ctx, shopA, first.ID)
		if me.ID != first.ID {
			t.Fatal(me)
		}
	})
}

func TestStaffNotes(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shopA, shopB := newShop(t, d, "wx0000000000000na1"), newShop(t, d, "wx0000000000000nb1")
		s := NewService(d, nil, nil, nil)
		m, _, err := s.upsert(ctx, shopA, wechat.Session{OpenID: "o1"}, Source{Kind: SourceOther})
		if err != nil {
			t.Fatal(err)
		}
		n1, err := s.AddNote(ctx, shopA, m.ID, 5, "alice", "  爱砍价  ")
		if err != nil || n1.Body != "爱砍价" || n1.Author != "alice" {
			t.Fatal(n1, err)
		}
		if _, err := s.AddNote(ctx, shopA, m.ID, 5, "alice", "第二条"); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"", "   ", strings.Repeat("长", MaxNoteLength+1)} {
			if _, err := s.AddNote(ctx, shopA, m.ID, 5, "alice", bad); !errs.Is(err, "invalid_note") {
				t.Errorf("%q: %v", bad, err)
			}
		}
		if _, err := s.AddNote(ctx, shopA, m.ID, 5, "alice", strings.Repeat("长", MaxNoteLength)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddNote(ctx, shopB, m.ID, 6, "bob", "乙"); !errs.Is(err, "member_not_found") {
			t.Fatal(err)
		}
		if _, err := s.Notes(ctx, shopB, m.ID); !errs.Is(err, "member_not_found") {
			t.Fatal(err)
		}
		if err := s.DeleteNote(ctx, shopB, n1.ID); !errs.Is(err, "note_not_found") {
			t.Fatal(err)
		}
		if err := s.DeleteNote(ctx, shopA, n1.ID); err != nil {
			t.Fatal(err)
		}
		notes, err := s.Notes(ctx, shopA, m.ID)
		if err != nil || len(notes) != 2 || notes[0].ID < notes[1].ID {
			t.Fatal(notes, err)
		}
	})
}

// TestOnSignupRunsOnceInTheCreatingTransaction: the hook sees a new member
// once (not on later logins) inside the insert's transaction; its failure
// undoes the member.
func TestOnSignupRunsOnceInTheCreatingTransaction(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shopID := newShop(t, d, "wx0000000000000ms1")
		s := NewService(d, nil, nil, nil)
		var seen []int64
		var fail error
		s.OnSignup(func(ctx context.Context, tx *db.Tx, shop, id int64, _ time.Time) error {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM members WHERE shop_id = ? AND id = ?`, shop, id).Scan(&n); err != nil || n != 1 {
				return fmt.Errorf("the member is not in the hook's transaction: %d %v", n, err)
			}
			seen = append(seen, id)
			return fail
		})
		m, created, err := s.upsert(ctx, shopID, wechat.Session{OpenID: "s1"}, Source{})
		if err != nil || !created || len(seen) != 1 || seen[0] != m.ID {
			t.Fatalf("first login: %v %v %v", created, seen, err)
		}
		if _, created, err := s.upsert(ctx, shopID, wechat.Session{OpenID: "s1"}, Source{}); err != nil || created || len(seen) != 1 {
			t.Fatalf("second login: %v %v %v", created, seen, err)
		}
		fail = errors.New("boom")
		if _, _, err := s.upsert(ctx, shopID, wechat.Session{OpenID: "s2"}, Source{}); err == nil {
			t.Fatal("a failing hook let the member be created")
		}
		var n int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM members WHERE shop_id = ? AND openid = 's2'`, shopID).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d members s2 after the hook failed", n)
		}
	})
}
