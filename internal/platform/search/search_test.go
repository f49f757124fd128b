package search

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

// ids is shorthand for an expected id list.
func ids(v ...int64) []int64 { return v }

// searchIDs returns the first page (Limit 100) of q.
func searchIDs(ix *Index, q Query) []int64 {
	q.Limit = MaxLimit
	return ix.Search(q).IDs
}

// searchAll pages through q with the given limit and returns all ids.
func searchAll(t *testing.T, ix *Index, q Query, limit int) []int64 {
	t.Helper()
	q.Limit = limit
	var all []int64
	for pages := 0; ; pages++ {
		if pages > 100000 {
			t.Fatal("pagination does not terminate")
		}
		r := ix.Search(q)
		if len(r.IDs) > limit {
			t.Fatalf("page of %d ids exceeds limit %d", len(r.IDs), limit)
		}
		all = append(all, r.IDs...)
		if r.Next == 0 {
			return all
		}
		if len(r.IDs) != limit || r.Next != r.IDs[len(r.IDs)-1] {
			t.Fatalf("page %v has Next %d", r.IDs, r.Next)
		}
		q.After = r.Next
	}
}

func newIndex(docs ...Doc) *Index {
	ix := New()
	for _, d := range docs {
		ix.Upsert(d)
	}
	return ix
}

func doc(id, shop int64, text string) Doc {
	return Doc{ID: id, ShopID: shop, CategoryID: 1, Text: text, Visible: true}
}

func assertIDs(t *testing.T, got, want []int64) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestNormalize(t *testing.T) {
	cases := map[string]string{
		"夏季 新款连衣裙":      "夏季新款连衣裙",
		"ＴＳＨＩＲＴ":        "tshirt",
		"T-Shirt！（包邮）":  "tshirt包邮",
		"  Nike\tAir\n": "nikeair",
		"１２３ｋｇ":         "123kg",
		"【限时】★特价★":      "限时特价",
		"":              "",
		"...":           "",
	}
	for in, want := range cases {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestChineseSubstring(t *testing.T) {
	ix := newIndex(doc(1, 1, "夏季新款连衣裙"), doc(2, 1, "纯棉T恤"))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "连衣裙"}), ids(1))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "新款连衣"}), ids(1))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "夏季新款连衣裙"}), ids(1))
}

func TestMultiwordAND(t *testing.T) {
	ix := newIndex(
		doc(1, 1, "夏季新款连衣裙"),
		doc(2, 1, "纯棉连衣裙"),
		doc(3, 1, "纯棉T恤"),
	)
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "纯棉 连衣裙"}), ids(2))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "连衣裙　纯棉"}), ids(2)) // ideographic space
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "纯棉"}), ids(3, 2))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "纯棉 夏季"}), nil)
}

func TestFullWidthAndCase(t *testing.T) {
	ix := newIndex(doc(1, 1, "男士 tshirt 短袖"), doc(2, 1, "ＮＩＫＥ运动鞋"), doc(3, 1, "Nike Air"))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "ＴＳＨＩＲＴ"}), ids(1))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "TShirt"}), ids(1))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "nike"}), ids(3, 2))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "NIKE"}), ids(3, 2))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "nikeair"}), ids(3))
}

func TestSingleCharacter(t *testing.T) {
	ix := newIndex(doc(1, 1, "连衣裙"), doc(2, 1, "半身裙"), doc(3, 1, "衬衫"), doc(4, 1, "x"))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "裙"}), ids(2, 1))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "衫"}), ids(3))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "X"}), ids(4))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "裙 连"}), ids(1))
}

func TestNoMatch(t *testing.T) {
	ix := newIndex(doc(1, 1, "夏季新款连衣裙"))
	for _, q := range []string{"羽绒服", "裙连", "连衣裙子", "靴"} {
		r := ix.Search(Query{ShopID: 1, Text: q, Limit: 20})
		if len(r.IDs) != 0 || r.Next != 0 || r.IDs == nil {
			t.Errorf("%q: got %+v, want empty non-nil", q, r)
		}
	}
	if r := ix.Search(Query{ShopID: 99, Limit: 20}); r.IDs == nil || len(r.IDs) != 0 {
		t.Errorf("unknown shop: got %+v", r)
	}
}

func TestEmptyTextListsShop(t *testing.T) {
	ix := newIndex(doc(1, 1, "a"), doc(2, 1, "b"), doc(3, 2, "c"))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1}), ids(2, 1))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: " ，! "}), ids(2, 1))
}

func TestShopIsolation(t *testing.T) {
	ix := newIndex(doc(1, 1, "连衣裙"), doc(2, 2, "连衣裙"), doc(3, 1, "连衣裙"), doc(4, 2, "衬衫"))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "连衣裙"}), ids(3, 1))
	assertIDs(t, searchIDs(ix, Query{ShopID: 2, Text: "连衣裙"}), ids(2))
	assertIDs(t, searchIDs(ix, Query{ShopID: 2}), ids(4, 2))
	assertIDs(t, searchIDs(ix, Query{ShopID: 3, Text: "连衣裙"}), nil)
}

func TestCategoryFilter(t *testing.T) {
	ix := New()
	for i := int64(1); i <= 30; i++ {
		ix.Upsert(Doc{ID: i, ShopID: 1, CategoryID: i % 3, Text: fmt.Sprintf("商品%d号", i), Visible: true})
	}
	got := searchIDs(ix, Query{ShopID: 1, CategoryIDs: []int64{2}})
	assertIDs(t, got, ids(29, 26, 23, 20, 17, 14, 11, 8, 5, 2))
	// The category list (10 docs) drives and the words probe (商品 30, 品2 11).
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "商品2", CategoryIDs: []int64{2}}), ids(29, 26, 23, 20, 2))
	// The word list (11) drives and the categories (20) are checked.
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "商品2", CategoryIDs: []int64{2, 0}}), ids(29, 27, 26, 24, 23, 21, 20, 2))
	// Word list drives (short) and categories are checked.
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "29", CategoryIDs: []int64{0, 1, 2}}), ids(29))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "29", CategoryIDs: []int64{1}}), nil)
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, CategoryIDs: []int64{7}}), nil)
}

func TestHidden(t *testing.T) {
	ix := newIndex(doc(1, 1, "连衣裙"), Doc{ID: 2, ShopID: 1, CategoryID: 1, Text: "连衣裙"})
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "连衣裙"}), ids(1))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1}), ids(1))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "连衣裙", IncludeHidden: true}), ids(2, 1))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "连衣裙", OnlyHidden: true}), ids(2))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, OnlyHidden: true}), ids(2))
	ix.Upsert(doc(2, 1, "连衣裙")) // back on shelf
	ix.Upsert(Doc{ID: 1, ShopID: 1, CategoryID: 1, Text: "连衣裙"})
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "连衣裙"}), ids(2))
}

func TestUpsertReplacesText(t *testing.T) {
	ix := newIndex(doc(1, 1, "夏季连衣裙"), doc(2, 1, "冬季羽绒服"))
	ix.Search(Query{ShopID: 1}) // postings fresh: the edit below is incremental
	ix.Upsert(doc(1, 1, "春季风衣"))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "连衣裙"}), nil)
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "风衣"}), ids(1))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "季"}), ids(2, 1))
	if ix.Len() != 2 {
		t.Fatalf("Len = %d, want 2", ix.Len())
	}
	ix.Upsert(Doc{ID: 2, ShopID: 1, CategoryID: 5, Text: "冬季羽绒服", Visible: true})
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, CategoryIDs: []int64{1}}), ids(1))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, CategoryIDs: []int64{5}}), ids(2))
}

func TestRemove(t *testing.T) {
	ix := newIndex(doc(1, 1, "连衣裙"), doc(2, 1, "连衣裙"), doc(3, 2, "连衣裙"))
	ix.Search(Query{ShopID: 1})
	ix.Remove(2)
	ix.Remove(42) // unknown: no-op
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "连衣裙"}), ids(1))
	assertIDs(t, searchIDs(ix, Query{ShopID: 1}), ids(1))
	if ix.Len() != 2 {
		t.Fatalf("Len = %d, want 2", ix.Len())
	}
	ix.Remove(1)
	ix.Remove(3)
	assertIDs(t, searchIDs(ix, Query{ShopID: 1}), nil)
	if ix.Len() != 0 || len(ix.shards) != 0 {
		t.Fatalf("Len = %d, shards = %d after removing everything", ix.Len(), len(ix.shards))
	}
	ix.Upsert(doc(2, 1, "衬衫")) // re-adding a removed id
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "衬衫"}), ids(2))
}

func TestShopChangeAndWarm(t *testing.T) {
	ix := newIndex(doc(3, 1, "连衣裙"), doc(1, 1, "连衣裙"), doc(2, 2, "衬衫"))
	ix.Upsert(doc(1, 2, "连衣裙")) // moves shops: not expected, but handled
	ix.Warm()
	for _, sh := range ix.shards {
		if sh.stale {
			t.Fatal("shard still stale after Warm")
		}
	}
	assertIDs(t, searchIDs(ix, Query{ShopID: 1, Text: "连衣裙"}), ids(3))
	assertIDs(t, searchIDs(ix, Query{ShopID: 2}), ids(2, 1))
}

func TestPagination(t *testing.T) {
	ix := New()
	var want []int64
	for _, i := range rand.New(rand.NewPCG(1, 2)).Perm(150) {
		id := int64(i + 1)
		text := "衬衫"
		if id%3 == 0 {
			text = "夏季连衣裙"
			want = append(want, id)
		}
		ix.Upsert(doc(id, 1, text))
	}
	slices.Sort(want)
	slices.Reverse(want)
	got := searchAll(t, ix, Query{ShopID: 1, Text: "连衣裙"}, 7)
	assertIDs(t, got, want)

	r := ix.Search(Query{ShopID: 1, Text: "连衣裙", Limit: 50})
	if len(r.IDs) != 50 || r.Next != 0 {
		t.Fatalf("exact last page: %d ids, Next %d", len(r.IDs), r.Next)
	}
	r = ix.Search(Query{ShopID: 1, Text: "连衣裙", After: 100, Limit: 3})
	assertIDs(t, r.IDs, ids(99, 96, 93))
	if r.Next != 93 {
		t.Fatalf("Next = %d, want 93", r.Next)
	}
}

func TestLimitClamp(t *testing.T) {
	ix := New()
	for i := int64(1); i <= 150; i++ {
		ix.Upsert(doc(i, 1, "连衣裙"))
	}
	if n := len(ix.Search(Query{ShopID: 1, Limit: 0}).IDs); n != 1 {
		t.Errorf("Limit 0 returned %d ids, want 1", n)
	}
	if n := len(ix.Search(Query{ShopID: 1, Limit: 1000}).IDs); n != MaxLimit {
		t.Errorf("Limit 1000 returned %d ids, want %d", n, MaxLimit)
	}
}

// model is the brute-force reference: a map of docs scanned on every query.
type model map[int64]modelDoc

type modelDoc struct {
	Doc
	norm string // Normalize(Text), cached
}

func (m model) search(q Query) []int64 {
	var words []string
	for _, w := range strings.Fields(q.Text) {
		if w = Normalize(w); w != "" {
			words = append(words, w)
		}
	}
	var out []int64
	for _, d := range m {
		if d.ShopID != q.ShopID || (!d.Visible && !q.IncludeHidden) || (q.After > 0 && d.ID >= q.After) {
			continue
		}
		if len(q.CategoryIDs) > 0 && !slices.Contains(q.CategoryIDs, d.CategoryID) {
			continue
		}
		if !slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(d.norm, w) }) {
			out = append(out, d.ID)
		}
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

// alphabet is small so that random words match often; it mixes Chinese,
// ASCII, full-width forms, spaces and punctuation.
var alphabet = []rune("连衣裙夏季新款纯棉红色裙衣Tt恤ＴＡａA1１ ，!")

func randText(r *rand.Rand, minLen, maxLen int) string {
	n := minLen + r.IntN(maxLen-minLen+1)
	b := make([]rune, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func randQuery(r *rand.Rand, m model) Query {
	q := Query{ShopID: int64(r.IntN(3)), IncludeHidden: r.IntN(4) == 0}
	for range r.IntN(4) {
		if len(m) > 0 && r.IntN(2) == 0 {
			// A piece of an existing title, so long words match too.
			rs := []rune(m[int64(r.IntN(len(m)))+1].Text)
			if len(rs) > 0 {
				i := r.IntN(len(rs))
				j := min(len(rs), i+1+r.IntN(6))
				q.Text += string(rs[i:j]) + " "
				continue
			}
		}
		q.Text += randText(r, 1, 3) + " "
	}
	if r.IntN(4) == 0 {
		q.CategoryIDs = []int64{int64(r.IntN(5)), int64(r.IntN(5))}
	}
	if r.IntN(5) == 0 {
		q.After = int64(r.IntN(4000))
	}
	return q
}

// TestAgainstBruteForce mixes random writes (in order, out of order, edits,
// removals) with random queries and compares every result, page by page,
// with a substring scan.
func TestAgainstBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	ix, m := New(), model{}
	maxID := int64(0)
	for step := range 6000 {
		var d Doc
		switch op := r.IntN(10); {
		case op < 5: // new, newest doc
			maxID++
			d = Doc{ID: maxID}
		case op < 8 && maxID > 0: // edit or out-of-order insert of an older id
			d = Doc{ID: 1 + r.Int64N(maxID)}
		default:
			id := 1 + r.Int64N(maxID+1)
			ix.Remove(id)
			delete(m, id)
			continue
		}
		d.ShopID = int64(r.IntN(3))
		if old, ok := m[d.ID]; ok {
			d.ShopID = old.ShopID
		}
		d.CategoryID = int64(r.IntN(5))
		d.Text = randText(r, 0, 20)
		d.Visible = r.IntN(5) != 0
		ix.Upsert(d)
		m[d.ID] = modelDoc{d, Normalize(d.Text)}
		if step%3 == 0 {
			compareQuery(t, ix, m, randQuery(r, m), 1+r.IntN(10))
		}
		if step%50 == 0 {
			checkPostings(t, ix)
		}
	}
	if ix.Len() != len(m) {
		t.Fatalf("Len = %d, model has %d", ix.Len(), len(m))
	}
	for range 2000 {
		compareQuery(t, ix, m, randQuery(r, m), 1+r.IntN(10))
	}
}

func compareQuery(t *testing.T, ix *Index, m model, q Query, limit int) {
	t.Helper()
	want := m.search(q)
	got := searchAll(t, ix, q, limit)
	if !slices.Equal(got, want) {
		t.Fatalf("query %+v limit %d:\n got  %v\n want %v", q, limit, got, want)
	}
}

// checkPostings verifies the invariants of every built shard: each posting
// list is exactly the live slots containing its key, in ascending ID order.
func checkPostings(t *testing.T, ix *Index) {
	t.Helper()
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for shop, sh := range ix.shards {
		if sh.stale {
			continue
		}
		var order []uint32
		for slot, e := range sh.docs {
			if e.alive {
				order = append(order, uint32(slot))
			}
		}
		slices.SortFunc(order, func(a, b uint32) int { return cmp.Compare(sh.ids[a], sh.ids[b]) })
		wantGrams, wantCats := map[uint64][]uint32{}, map[int64][]uint32{}
		for _, s := range order {
			e := sh.docs[s]
			wantCats[e.cat] = append(wantCats[e.cat], s)
			for _, k := range appendDocGrams(nil, e.text) {
				if l := wantGrams[k]; len(l) == 0 || l[len(l)-1] != s {
					wantGrams[k] = append(l, s)
				}
			}
		}
		if !slices.Equal(sh.all, order) || !equalPostings(sh.grams, wantGrams) || !equalPostings(sh.cats, wantCats) {
			t.Fatalf("shop %d: postings differ from docs", shop)
		}
		if sh.live != len(order) || sh.dead != len(sh.docs)-len(order) {
			t.Fatalf("shop %d: live %d dead %d, have %d slots, %d live", shop, sh.live, sh.dead, len(sh.docs), len(order))
		}
	}
}

func equalPostings[K comparable](got, want map[K][]uint32) bool {
	if len(got) != len(want) {
		return false
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			return false
		}
	}
	return true
}

// TestChurnIsBounded re-upserts and removes the same documents many times and
// checks that dead slots and posting lists do not grow without bound.
func TestChurnIsBounded(t *testing.T) {
	ix := New()
	for i := int64(1); i <= 100; i++ {
		ix.Upsert(doc(i, 1, "夏季新款连衣裙"))
	}
	for round := range 200 {
		for i := int64(1); i <= 100; i += 2 {
			ix.Remove(i)
			ix.Upsert(doc(i, 1, fmt.Sprintf("款式%d 连衣裙", round)))
			ix.Upsert(doc(i+1, 1, fmt.Sprintf("颜色%d 衬衫", round)))
		}
		ix.Search(Query{ShopID: 1, Text: "连衣裙"})
	}
	ix.mu.RLock()
	sh := ix.shards[1]
	slots, grams, capacity := len(sh.ids), len(sh.grams), cap(sh.all)
	for _, l := range sh.grams {
		capacity += cap(l)
	}
	ix.mu.RUnlock()
	if slots > 100+2*minDead || grams > 200 || capacity > 20000 {
		t.Fatalf("after churn: %d slots, %d gram lists, %d posting capacity for 100 docs", slots, grams, capacity)
	}
	checkPostings(t, ix)
	assertIDs(t, searchAll(t, ix, Query{ShopID: 1, Text: "款式199"}, 7), ids(99, 97, 95, 93, 91, 89, 87, 85, 83, 81, 79, 77, 75, 73, 71, 69, 67, 65, 63, 61, 59, 57, 55, 53, 51, 49, 47, 45, 43, 41, 39, 37, 35, 33, 31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1))
}

// TestConcurrent runs readers and writers together (meaningful under -race)
// and checks that every result stays well-formed and inside its shop.
func TestConcurrent(t *testing.T) {
	ix := New()
	const shops = 4
	for i := int64(1); i <= 2000; i++ {
		ix.Upsert(Doc{ID: i*shops + i%shops, ShopID: i % shops, Text: "夏季连衣裙", Visible: true})
	}
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range 2000 {
				n := 1 + r.Int64N(3000)
				id := n*shops + n%shops
				if r.IntN(3) == 0 {
					ix.Remove(id)
				} else {
					ix.Upsert(Doc{ID: id, ShopID: n % shops, Text: randText(r, 1, 10) + "连衣裙", Visible: r.IntN(2) == 0})
				}
			}
		})
	}
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 2))
			for range 2000 {
				shop := int64(r.IntN(shops))
				res := ix.Search(Query{ShopID: shop, Text: []string{"连衣裙", "裙", "", "夏季 裙"}[r.IntN(4)], IncludeHidden: r.IntN(2) == 0, Limit: 20})
				for i, id := range res.IDs {
					if id%shops != shop || (i > 0 && id >= res.IDs[i-1]) {
						errs <- fmt.Errorf("shop %d got bad page %v", shop, res.IDs)
						return
					}
				}
				_ = ix.Len()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
