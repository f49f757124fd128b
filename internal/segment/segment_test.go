package segment

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

var now = time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC)

const dayMs = int64(24 * time.Hour / time.Millisecond)

// fixture is two shops: A with members, categories, products and orders,
// B with its own tag, category and member.
type fixture struct {
	d                *db.DB
	s                *Service
	shopA, shopB     int64
	catRoot, catLeaf int64 // A's categories: leaf is under root
	catOther         int64 // A's category nobody bought
	catB, tagB       int64
	spuLeaf, spuB    int64
	skuLeaf, skuB    int64
	memberB          int64
	seq              int
}

func ago(days int) int64 { return now.UnixMilli() - int64(days)*dayMs }

func newFixture(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	f := &fixture{d: d, s: NewService(d)}
	f.s.now = func() time.Time { return now }
	f.shopA, f.shopB = f.shop(t, "wx000000000000seg1"), f.shop(t, "wx000000000000seg2")
	f.catRoot = f.category(t, f.shopA, 0)
	f.catLeaf = f.category(t, f.shopA, f.catRoot)
	f.catOther = f.category(t, f.shopA, 0)
	f.catB = f.category(t, f.shopB, 0)
	f.spuLeaf, f.skuLeaf = f.product(t, f.shopA, f.catLeaf)
	f.spuB, f.skuB = f.product(t, f.shopB, f.catB)
	f.memberB = f.member(t, f.shopB, memberRow{nickname: "乙的人"})
	tag, err := f.s.CreateTag(context.Background(), f.shopB, TagInput{Name: "乙标签"})
	if err != nil {
		t.Fatal(err)
	}
	f.tagB = tag.ID
	return f
}

func (f *fixture) exec(t testing.TB, q string, args ...any) int64 {
	t.Helper()
	var id int64
	if err := f.d.QueryRow(context.Background(), q, args...).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) shop(t testing.TB, appid string) int64 {
	return f.exec(t, `INSERT INTO shops (name, appid, subject_type, created_at, updated_at) VALUES (?, ?, 'enterprise', 0, 0) RETURNING id`, "店"+appid, appid)
}

func (f *fixture) category(t testing.TB, shopID, parent int64) int64 {
	var p any
	if parent > 0 {
		p = parent
	}
	return f.exec(t, `INSERT INTO categories (shop_id, parent_id, name, created_at, updated_at) VALUES (?, ?, 'c', 0, 0) RETURNING id`, shopID, p)
}

func (f *fixture) product(t testing.TB, shopID, cat int64) (spu, sku int64) {
	spu = f.exec(t, `INSERT INTO spus (shop_id, category_id, title, created_at, updated_at) VALUES (?, ?, 'p', 0, 0) RETURNING id`, shopID, cat)
	sku = f.exec(t, `INSERT INTO skus (shop_id, spu_id, price, stock, created_at, updated_at) VALUES (?, ?, 100, 10, 0, 0) RETURNING id`, shopID, spu)
	return spu, sku
}

type memberRow struct {
	phone, nickname, source, ref string
	joined, login                int64 // Unix ms; 0: 400 days ago
}

func (f *fixture) member(t testing.TB, shopID int64, m memberRow) int64 {
	f.seq++
	if m.joined == 0 {
		m.joined = ago(400)
	}
	if m.login == 0 {
		m.login = m.joined
	}
	return f.exec(t, `INSERT INTO members (shop_id, openid, phone, nickname, source_kind, source_ref, last_login_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, shopID, fmt.Sprint("o", f.seq), m.phone, m.nickname, m.source, m.ref, m.login, m.joined, m.joined)
}

// order writes a paid (paidAt > 0) or unpaid order of one line.
func (f *fixture) order(t testing.TB, shopID, memberID, spu, sku int64, paid, refunded, paidAt int64) {
	f.seq++
	status := "pending_payment"
	var at any
	if paidAt > 0 {
		status, at = "paid", paidAt
	}
	if refunded > 0 && refunded == paid {
		status = "refunded"
	}
	total := max(paid, 100)
	id := f.exec(t, `INSERT INTO orders (shop_id, member_id, order_no, status, goods_amount, shipping_fee, total_amount, paid_amount, refunded_amount,
		address, idempotency_key, pay_deadline, paid_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, '{}', ?, 0, ?, 0, 0) RETURNING id`,
		shopID, memberID, fmt.Sprint("NO", f.seq), status, total, total, paid, refunded, fmt.Sprint("k", f.seq), at)
	f.exec(t, `INSERT INTO order_lines (shop_id, order_id, spu_id, sku_id, title, unit_price, quantity, amount) VALUES (?, ?, ?, ?, 'p', ?, 1, ?) RETURNING id`,
		shopID, id, spu, sku, total, total)
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if !errs.Is(err, code) {
		t.Fatalf("got %v, want %s", err, code)
	}
}

func ids(t testing.TB, s *Service, shopID int64, r Rule) []int64 {
	t.Helper()
	p, err := s.PreviewRule(context.Background(), shopID, r)
	if err != nil {
		t.Fatal(err)
	}
	out := []int64{}
	for _, m := range p.Members {
		out = append(out, m.ID)
	}
	slices.Sort(out)
	if int64(len(out)) != p.Count {
		t.Fatalf("count %d but %d members listed", p.Count, len(out))
	}
	return out
}

func cond(field Field, v any) Condition { return Condition{Field: field, Value: v} }

func TestTags(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		s := f.s
		m1, m2 := f.member(t, f.shopA, memberRow{}), f.member(t, f.shopA, memberRow{})
		vip, err := s.CreateTag(ctx, f.shopA, TagInput{Name: " VIP ", Color: "#ff0000"})
		if err != nil || vip.Name != "VIP" {
			t.Fatal(vip, err)
		}
		_, err = s.CreateTag(ctx, f.shopA, TagInput{Name: "VIP"})
		wantCode(t, err, "tag_exists")
		_, err = s.CreateTag(ctx, f.shopA, TagInput{Name: "x", Color: "red"})
		wantCode(t, err, "invalid_fields")
		_, err = s.CreateTag(ctx, f.shopA, TagInput{Name: ""})
		wantCode(t, err, "invalid_fields")
		if _, err := s.CreateTag(ctx, f.shopB, TagInput{Name: "VIP"}); err != nil { // names are per shop
			t.Fatal(err)
		}

		ch, err := s.TagMembers(ctx, f.shopA, vip.ID, []int64{m1, m2, m1})
		if err != nil || ch.Changed != 2 {
			t.Fatal(ch, err)
		}
		if ch, _ := s.TagMembers(ctx, f.shopA, vip.ID, []int64{m1}); ch.Changed != 0 {
			t.Fatal("tagged twice", ch)
		}
		_, err = s.TagMembers(ctx, f.shopA, vip.ID, []int64{m1, f.memberB})
		wantCode(t, err, "unknown_member")
		_, err = s.TagMembers(ctx, f.shopA, vip.ID, nil)
		wantCode(t, err, "invalid_member_ids")
		_, err = s.TagMembers(ctx, f.shopA, vip.ID, make([]int64, MaxBulk+1))
		wantCode(t, err, "invalid_member_ids")
		_, err = s.TagMembers(ctx, f.shopA, f.tagB, []int64{m1}) // B's tag
		wantCode(t, err, "tag_not_found")
		_, err = s.TagMembers(ctx, f.shopB, vip.ID, []int64{f.memberB}) // A's tag from B
		wantCode(t, err, "tag_not_found")

		if got, _ := s.Tag(ctx, f.shopA, vip.ID); got.MemberCount != 2 {
			t.Fatal("count", got)
		}
		page, err := s.Search(ctx, f.shopA, Filter{TagID: vip.ID}, 0, 10)
		if err != nil || len(page.Items) != 2 || page.Items[0].ID != m2 {
			t.Fatal(page, err)
		}
		if ch, err := s.UntagMembers(ctx, f.shopA, vip.ID, []int64{m2}); err != nil || ch.Changed != 1 {
			t.Fatal(ch, err)
		}

		other, _ := s.CreateTag(ctx, f.shopA, TagInput{Name: "老客"})
		tags, err := s.SetMemberTags(ctx, f.shopA, m2, []int64{other.ID, vip.ID, other.ID})
		if err != nil || len(tags) != 2 {
			t.Fatal(tags, err)
		}
		_, err = s.SetMemberTags(ctx, f.shopA, m2, []int64{f.tagB})
		wantCode(t, err, "tag_not_found")
		_, err = s.SetMemberTags(ctx, f.shopA, f.memberB, []int64{vip.ID})
		wantCode(t, err, "member_not_found")
		if tags, _ := s.MemberTags(ctx, f.shopA, m2); len(tags) != 2 {
			t.Fatal("a refused set changed the tags", tags)
		}
		if tags, _ := s.SetMemberTags(ctx, f.shopA, m2, nil); len(tags) != 0 {
			t.Fatal(tags)
		}

		_, err = s.UpdateTag(ctx, f.shopA, other.ID, TagInput{Name: "VIP"})
		wantCode(t, err, "tag_exists")
		_, err = s.UpdateTag(ctx, f.shopB, other.ID, TagInput{Name: "乙改"})
		wantCode(t, err, "tag_not_found")
		wantCode(t, s.DeleteTag(ctx, f.shopB, vip.ID), "tag_not_found")
		if err := s.DeleteTag(ctx, f.shopA, vip.ID); err != nil {
			t.Fatal(err)
		}
		if tags, _ := s.MemberTags(ctx, f.shopA, m1); len(tags) != 0 {
			t.Fatal("a deleted tag stayed on a member", tags)
		}
		list, _ := s.Tags(ctx, f.shopA)
		if len(list) != 1 || list[0].ID != other.ID {
			t.Fatal(list)
		}
	})
}

// Many staff tagging the same members at once: every call succeeds, each
// member is tagged once.
func TestTagMembersConcurrently(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		var members []int64
		for range 20 {
			members = append(members, f.member(t, f.shopA, memberRow{}))
		}
		tag, _ := f.s.CreateTag(ctx, f.shopA, TagInput{Name: "抢"})
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := int64(0)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ch, err := f.s.TagMembers(ctx, f.shopA, tag.ID, members[i:])
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				total += ch.Changed
				mu.Unlock()
			}()
		}
		wg.Wait()
		got, _ := f.s.Tag(ctx, f.shopA, tag.ID)
		if total != 20 || got.MemberCount != 20 {
			t.Fatalf("changed %d, count %d, want 20", total, got.MemberCount)
		}
		// Staff setting one member's whole set of tags at once: no call fails.
		other, _ := f.s.CreateTag(ctx, f.shopA, TagInput{Name: "另"})
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				set := []int64{tag.ID}
				if i%2 == 0 {
					set = append(set, other.ID)
				}
				if _, err := f.s.SetMemberTags(ctx, f.shopA, members[0], set); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if tags, _ := f.s.MemberTags(ctx, f.shopA, members[0]); len(tags) < 1 || len(tags) > 2 {
			t.Fatalf("tags after concurrent sets: %v", tags)
		}
		// A tag deleted while staff tag members with it: each call either
		// succeeds first or finds no tag; no link outlives the tag.
		doomed, _ := f.s.CreateTag(ctx, f.shopA, TagInput{Name: "删"})
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				switch i % 3 {
				case 0:
					err = f.s.DeleteTag(ctx, f.shopA, doomed.ID)
				case 1:
					_, err = f.s.TagMembers(ctx, f.shopA, doomed.ID, members)
				default:
					_, err = f.s.SetMemberTags(ctx, f.shopA, members[1], []int64{doomed.ID, tag.ID})
				}
				if err != nil && !errs.Is(err, "tag_not_found") {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		var left int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM member_tag_links WHERE tag_id = ?`, doomed.ID).Scan(&left); err != nil || left != 0 {
			t.Fatalf("%d links of a deleted tag (%v)", left, err)
		}
	})
}

func TestRuleConditions(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		s := f.s
		// big: spent 50,000 net (60,000 - 10,000 refund), bought leaf, paid 5 days ago
		big := f.member(t, f.shopA, memberRow{source: "promoter", ref: "7"})
		f.order(t, f.shopA, big, f.spuLeaf, f.skuLeaf, 60000, 10000, ago(5))
		// small: spent 1,000, paid 100 days ago, logged in 100 days ago; a refunded order of the leaf category
		small := f.member(t, f.shopA, memberRow{source: "share", login: ago(100)})
		f.order(t, f.shopA, small, f.spuLeaf, f.skuLeaf, 1000, 0, ago(100))
		f.order(t, f.shopA, small, f.spuLeaf, f.skuLeaf, 500, 500, ago(90))
		// fresh: joined 3 days ago, an unpaid order only
		fresh := f.member(t, f.shopA, memberRow{source: "search", joined: ago(3)})
		f.order(t, f.shopA, fresh, f.spuLeaf, f.skuLeaf, 0, 0, 0)
		// idle: joined long ago, never paid, logged in 400 days ago
		idle := f.member(t, f.shopA, memberRow{})
		// B's big spender of B's category must never show up
		f.order(t, f.shopB, f.memberB, f.spuB, f.skuB, 99999, 0, ago(1))
		vip, _ := s.CreateTag(ctx, f.shopA, TagInput{Name: "VIP"})
		if _, err := s.TagMembers(ctx, f.shopA, vip.ID, []int64{small, idle}); err != nil {
			t.Fatal(err)
		}
		// Levels: big is at rank 2, small at rank 1 (B's member at rank 3 in B).
		for _, g := range [][3]int64{{f.shopA, big, 2}, {f.shopA, small, 1}, {f.shopB, f.memberB, 3}} {
			f.exec(t, `INSERT INTO member_growth (shop_id, member_id, rank, rank_since, updated_at) VALUES (?, ?, ?, 0, 0) RETURNING rank`, g[0], g[1], g[2])
		}

		for _, c := range []struct {
			name string
			rule Rule
			want []int64
		}{
			{"everyone", Rule{}, []int64{big, small, fresh, idle}},
			{"spent at least", Rule{All: []Condition{cond(SpentAtLeast, 50000.0)}}, []int64{big}},
			{"spent at least, net of refunds", Rule{All: []Condition{cond(SpentAtLeast, 50001.0)}}, []int64{}},
			{"spent at least 0", Rule{All: []Condition{cond(SpentAtLeast, 0.0)}}, []int64{big, small, fresh, idle}},
			{"spent at most", Rule{All: []Condition{cond(SpentAtMost, 1000.0)}}, []int64{small, fresh, idle}},
			{"spent at most 0", Rule{All: []Condition{cond(SpentAtMost, 0.0)}}, []int64{fresh, idle}},
			{"bought the root category (leaf below it)", Rule{All: []Condition{cond(BoughtCategory, float64(f.catRoot))}}, []int64{big, small}},
			{"bought the leaf", Rule{All: []Condition{cond(BoughtCategory, float64(f.catLeaf))}}, []int64{big, small}},
			{"bought a category nobody bought", Rule{All: []Condition{cond(BoughtCategory, float64(f.catOther))}}, []int64{}},
			{"inactive 30 days", Rule{All: []Condition{cond(InactiveDays, 30.0)}}, []int64{small, idle}},
			{"inactive 95 days (small's refunded order was paid 90 days ago)", Rule{All: []Condition{cond(InactiveDays, 95.0)}}, []int64{idle}},
			{"inactive 91 days", Rule{All: []Condition{cond(InactiveDays, 91.0)}}, []int64{idle}},
			{"inactive 89 days", Rule{All: []Condition{cond(InactiveDays, 89.0)}}, []int64{small, idle}},
			{"inactive 200 days", Rule{All: []Condition{cond(InactiveDays, 200.0)}}, []int64{idle}},
			{"has tag", Rule{All: []Condition{cond(HasTag, float64(vip.ID))}}, []int64{small, idle}},
			{"joined within 7 days", Rule{All: []Condition{cond(JoinedWithinDays, 7.0)}}, []int64{fresh}},
			{"source kind", Rule{All: []Condition{cond(SourceKindIs, "promoter")}}, []int64{big}},
			{"level 1 or above", Rule{All: []Condition{cond(LevelIs, 1.0)}}, []int64{big, small}},
			{"level 2 or above", Rule{All: []Condition{cond(LevelIs, 2.0)}}, []int64{big}},
			{"level 3 or above (only B has one)", Rule{All: []Condition{cond(LevelIs, 3.0)}}, []int64{}},
			{"source ref", Rule{All: []Condition{cond(SourceKindIs, "promoter"), cond(SourceRefIs, "7")}}, []int64{big}},
			{"and", Rule{All: []Condition{cond(HasTag, float64(vip.ID)), cond(SpentAtLeast, 1.0)}}, []int64{small}},
			{"or group", Rule{Any: []Condition{cond(SourceKindIs, "search"), cond(SpentAtLeast, 50000.0)}}, []int64{big, fresh}},
			{"and with an or group", Rule{All: []Condition{cond(SpentAtMost, 1000.0)}, Any: []Condition{cond(HasTag, float64(vip.ID)), cond(JoinedWithinDays, 7.0)}},
				[]int64{small, fresh, idle}},
			{"and with an or group, narrowed", Rule{All: []Condition{cond(InactiveDays, 30.0)}, Any: []Condition{cond(SpentAtLeast, 1.0), cond(SourceKindIs, "search")}},
				[]int64{small}},
		} {
			if got := ids(t, s, f.shopA, c.rule); !slices.Equal(got, c.want) {
				t.Errorf("%s: got %v, want %v", c.name, got, c.want)
			}
		}
		// A login counts as activity.
		f.exec(t, `UPDATE members SET last_login_at = ? WHERE id = ? RETURNING id`, ago(2), idle)
		if got := ids(t, s, f.shopA, Rule{All: []Condition{cond(InactiveDays, 30.0)}}); !slices.Equal(got, []int64{small}) {
			t.Errorf("inactive after a login: %v", got)
		}
		// B sees only its own member, whatever A's data.
		if got := ids(t, s, f.shopB, Rule{All: []Condition{cond(SpentAtLeast, 1.0)}}); !slices.Equal(got, []int64{f.memberB}) {
			t.Errorf("shop B: %v", got)
		}
	})
}

func TestBadRules(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		many := make([]Condition, MaxConditions+1)
		for i := range many {
			many[i] = cond(JoinedWithinDays, 1.0)
		}
		for _, c := range []struct {
			rule Rule
			code string
		}{
			{Rule{All: []Condition{cond("birthday_month", 3.0)}}, "unknown_condition"},
			{Rule{All: []Condition{cond("", 3.0)}}, "unknown_condition"},
			{Rule{All: []Condition{cond(LevelIs, 0.0)}}, "invalid_condition_value"},
			{Rule{Any: []Condition{cond(LevelIs, 21.0)}}, "invalid_condition_value"},
			{Rule{All: []Condition{cond(SpentAtLeast, "100")}}, "invalid_condition_value"},
			{Rule{All: []Condition{cond(SpentAtLeast, -1.0)}}, "invalid_condition_value"},
			{Rule{All: []Condition{cond(SpentAtLeast, 1.5)}}, "invalid_condition_value"},
			{Rule{All: []Condition{cond(SpentAtMost, 1e300)}}, "invalid_condition_value"},
			{Rule{All: []Condition{cond(SpentAtMost, nil)}}, "invalid_condition_value"},
			{Rule{All: []Condition{cond(InactiveDays, 0.0)}}, "invalid_condition_value"},
			{Rule{All: []Condition{cond(JoinedWithinDays, 99999.0)}}, "invalid_condition_value"},
			{Rule{All: []Condition{cond(HasTag, true)}}, "invalid_condition_value"},
			{Rule{All: []Condition{cond(HasTag, map[string]any{"id": 1})}}, "invalid_condition_value"},
			{Rule{All: []Condition{cond(SourceKindIs, "tv")}}, "invalid_condition_value"},
			{Rule{All: []Condition{cond(SourceKindIs, 3.0)}}, "invalid_condition_value"},
			{Rule{All: []Condition{cond(SourceRefIs, "")}}, "invalid_condition_value"},
			{Rule{All: []Condition{cond(HasTag, float64(f.tagB))}}, "unknown_tag"},
			{Rule{All: []Condition{cond(HasTag, 99999999.0)}}, "unknown_tag"},
			{Rule{Any: []Condition{cond(BoughtCategory, float64(f.catB))}}, "unknown_category"},
			{Rule{All: many}, "rule_too_large"},
		} {
			_, err := f.s.PreviewRule(ctx, f.shopA, c.rule)
			if !errs.Is(err, c.code) || errs.As(err).Kind != errs.Invalid {
				t.Errorf("%+v: got %v, want 400 %s", c.rule, err, c.code)
			}
			_, err = f.s.CreateSegment(ctx, f.shopA, SegmentInput{Name: "bad", Rule: c.rule})
			if !errs.Is(err, c.code) {
				t.Errorf("saving %+v: got %v, want %s", c.rule, err, c.code)
			}
		}
		if list, _ := f.s.Segments(ctx, f.shopA); len(list) != 0 {
			t.Fatal("a bad rule was saved", list)
		}
	})
}

func TestSavedSegments(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		s := f.s
		var recent []int64
		for i := range 7 {
			recent = append(recent, f.member(t, f.shopA, memberRow{joined: ago(i + 1)}))
		}
		f.member(t, f.shopA, memberRow{}) // an old member
		tag, _ := s.CreateTag(ctx, f.shopA, TagInput{Name: "t"})
		g, err := s.CreateSegment(ctx, f.shopA, SegmentInput{Name: " 新人 ", Rule: Rule{All: []Condition{cond(JoinedWithinDays, 30.0)}}})
		if err != nil || g.Name != "新人" || g.MemberCount == nil || *g.MemberCount != 7 {
			t.Fatal(g, err)
		}
		if g.Rule.All[0].Value != int64(30) {
			t.Fatalf("value read back as %T", g.Rule.All[0].Value)
		}
		_, err = s.CreateSegment(ctx, f.shopA, SegmentInput{Name: "新人"})
		wantCode(t, err, "segment_exists")
		_, err = s.CreateSegment(ctx, f.shopA, SegmentInput{Name: ""})
		wantCode(t, err, "invalid_name")

		// MemberIDs: ascending keyset pages that cover the segment once.
		var got []int64
		after := int64(0)
		for {
			page, err := s.MemberIDs(ctx, f.shopA, g.ID, after, 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1]
		}
		if !slices.Equal(got, recent) {
			t.Fatalf("member ids %v, want %v", got, recent)
		}
		// Members: newest first, by page.
		p1, err := s.Members(ctx, f.shopA, g.ID, 0, 5)
		if err != nil || len(p1.Items) != 5 || p1.Next == 0 {
			t.Fatal(p1, err)
		}
		p2, _ := s.Members(ctx, f.shopA, g.ID, p1.Next, 5)
		if len(p2.Items) != 2 || p2.Next != 0 || p2.Items[1].ID != recent[0] {
			t.Fatal(p2)
		}

		// A segment on a tag deleted later selects nobody instead of failing.
		byTag, err := s.CreateSegment(ctx, f.shopA, SegmentInput{Name: "tagged", Rule: Rule{All: []Condition{cond(HasTag, float64(tag.ID))}}})
		if err != nil {
			t.Fatal(err)
		}
		s.TagMembers(ctx, f.shopA, tag.ID, recent[:2])
		if g, _ := s.Segment(ctx, f.shopA, byTag.ID); *g.MemberCount != 2 {
			t.Fatal(*g.MemberCount)
		}
		if err := s.DeleteTag(ctx, f.shopA, tag.ID); err != nil {
			t.Fatal(err)
		}
		if g, err := s.Segment(ctx, f.shopA, byTag.ID); err != nil || *g.MemberCount != 0 {
			t.Fatal(g, err)
		}

		up, err := s.UpdateSegment(ctx, f.shopA, g.ID, SegmentInput{Name: "新人3天", Rule: Rule{All: []Condition{cond(JoinedWithinDays, 3.0)}}})
		if err != nil || *up.MemberCount != 3 {
			t.Fatal(up, err)
		}
		// Shop B cannot see, count, page, change or delete A's segment.
		_, err = s.Segment(ctx, f.shopB, g.ID)
		wantCode(t, err, "segment_not_found")
		_, err = s.MemberIDs(ctx, f.shopB, g.ID, 0, 10)
		wantCode(t, err, "segment_not_found")
		_, err = s.Members(ctx, f.shopB, g.ID, 0, 10)
		wantCode(t, err, "segment_not_found")
		_, err = s.UpdateSegment(ctx, f.shopB, g.ID, SegmentInput{Name: "x"})
		wantCode(t, err, "segment_not_found")
		wantCode(t, s.DeleteSegment(ctx, f.shopB, g.ID), "segment_not_found")
		if list, _ := s.Segments(ctx, f.shopB); len(list) != 0 {
			t.Fatal(list)
		}
		if err := s.DeleteSegment(ctx, f.shopA, g.ID); err != nil {
			t.Fatal(err)
		}
		if list, _ := s.Segments(ctx, f.shopA); len(list) != 1 {
			t.Fatal(list)
		}
	})
}

func TestSearch(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		s := f.s
		li := f.member(t, f.shopA, memberRow{phone: "13800138000", nickname: "Li Lei"})
		han := f.member(t, f.shopA, memberRow{phone: "13900008000", nickname: "韩梅梅", joined: ago(1)})
		pct := f.member(t, f.shopA, memberRow{phone: "13700001234", nickname: "100%_real"})
		f.exec(t, `UPDATE members SET phone = '13800138000', nickname = 'li lei' WHERE id = ? RETURNING id`, f.memberB)
		search := func(fl Filter) []int64 {
			t.Helper()
			p, err := s.Search(ctx, f.shopA, fl, 0, 50)
			if err != nil {
				t.Fatal(err)
			}
			out := []int64{}
			for _, m := range p.Items {
				out = append(out, m.ID)
			}
			slices.Sort(out)
			return out
		}
		for _, c := range []struct {
			f    Filter
			want []int64
		}{
			{Filter{Phone: "13800138000"}, []int64{li}},
			{Filter{Phone: "8000"}, []int64{li, han}},
			{Filter{Phone: "1234"}, []int64{pct}},
			{Filter{Phone: "13800"}, []int64{}},
			{Filter{Nickname: "LEI"}, []int64{li}},
			{Filter{Nickname: "梅"}, []int64{han}},
			{Filter{Nickname: "%"}, []int64{pct}},
			{Filter{Nickname: "_"}, []int64{pct}},
			{Filter{Nickname: "0%_r"}, []int64{pct}},
			{Filter{Phone: "8000", Nickname: "韩"}, []int64{han}},
		} {
			if got := search(c.f); !slices.Equal(got, c.want) {
				t.Errorf("%+v: got %v, want %v", c.f, got, c.want)
			}
		}
		g, _ := s.CreateSegment(ctx, f.shopA, SegmentInput{Name: "new", Rule: Rule{All: []Condition{cond(JoinedWithinDays, 7.0)}}})
		if got := search(Filter{SegmentID: g.ID, Phone: "8000"}); !slices.Equal(got, []int64{han}) {
			t.Errorf("segment and phone: %v", got)
		}
		page, _ := s.Search(ctx, f.shopA, Filter{Phone: "13800138000"}, 0, 10)
		if page.Items[0].Phone != "138****8000" {
			t.Errorf("staff saw the phone %q", page.Items[0].Phone)
		}
		for _, c := range []struct {
			f    Filter
			code string
		}{
			{Filter{Phone: "12a4"}, "invalid_phone"},
			{Filter{Phone: "123"}, "invalid_phone"},
			{Filter{Nickname: string(make([]rune, 41))}, "invalid_nickname"},
			{Filter{TagID: f.tagB}, "tag_not_found"},
			{Filter{SegmentID: 999999}, "segment_not_found"},
		} {
			_, err := s.Search(ctx, f.shopA, c.f, 0, 10)
			wantCode(t, err, c.code)
		}
	})
}

func TestMemberOrdersAndSpending(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		m := f.member(t, f.shopA, memberRow{})
		f.order(t, f.shopA, m, f.spuLeaf, f.skuLeaf, 3000, 1000, ago(2))
		f.order(t, f.shopA, m, f.spuLeaf, f.skuLeaf, 0, 0, 0)
		page, err := f.s.MemberOrders(ctx, f.shopA, m, 0, 10)
		if err != nil || len(page.Items) != 2 || page.Items[0].Status != "pending_payment" || page.Items[1].PaidAt == nil {
			t.Fatal(page, err)
		}
		sp, err := f.s.MemberSpending(ctx, f.shopA, m)
		if err != nil || sp.PaidOrders != 1 || sp.Spent != 2000 || sp.LastPaidAt == nil {
			t.Fatal(sp, err)
		}
		_, err = f.s.MemberOrders(ctx, f.shopB, m, 0, 10)
		wantCode(t, err, "member_not_found")
		_, err = f.s.MemberSpending(ctx, f.shopB, m)
		wantCode(t, err, "member_not_found")
		_, err = f.s.MemberTags(ctx, f.shopB, m)
		wantCode(t, err, "member_not_found")
	})
}
