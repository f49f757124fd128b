package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// bruteFind is a naive reference: normalise the text, search every rule by
// direct substring comparison, apply the same boundary and allow rules.
func bruteFind(e *Engine, allow []string, text string) []string {
	units := normalizeUnits(text, nil)
	occ := func(w []rune) [][2]int {
		var out [][2]int
		for i := 0; i+len(w) <= len(units); i++ {
			ok := true
			for j, r := range w {
				if units[i+j].r != r {
					ok = false
					break
				}
			}
			if ok {
				out = append(out, [2]int{i, i + len(w) - 1})
			}
		}
		return out
	}
	var allowed [][2]int
	for _, a := range allow {
		allowed = append(allowed, occ([]rune(Normalize(a)))...)
	}
	var res []string
	for _, r := range e.rules {
		w := []rune(Normalize(r.Word))
		for _, o := range occ(w) {
			if latin := isLatinWord(w); !atBoundary(units, span{first: o[0], last: o[1]}, pattern{boundStart: latin, boundEnd: latin}) {
				continue
			}
			if slices.ContainsFunc(allowed, func(a [2]int) bool { return a[0] <= o[0] && o[1] <= a[1] }) {
				continue
			}
			res = append(res, fmt.Sprintf("%d-%d:%s", units[o[0]].start, units[o[1]].end, r.Word))
		}
	}
	slices.Sort(res)
	return res
}

func randWord(rng *rand.Rand, alphabet []string, minLen, maxLen int) string {
	var b strings.Builder
	for range minLen + rng.IntN(maxLen-minLen+1) {
		b.WriteString(alphabet[rng.IntN(len(alphabet))])
	}
	return b.String()
}

func TestFindMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	han := strings.Split("微信号加好友钱色情赌博卖发票代开", "")
	latin := strings.Split("absqxz019", "")
	noise := []string{"@", " ", "💰", "\u200b", "，", "ｓ", "Ｂ", "①", "⓪", "-", "A", "é", "\ufeff", "。"}
	var rules []Rule
	for i := range 60 {
		w := randWord(rng, han, 1, 4)
		if i%3 == 0 {
			w = randWord(rng, latin, 1, 3)
		}
		rules = append(rules, Rule{Word: w, Category: "c", Level: []Level{LevelBlock, LevelReview}[i%2]})
	}
	allow := []string{randWord(rng, han, 3, 5), randWord(rng, latin, 3, 4), randWord(rng, han, 3, 4)}
	e := mustBuild(t, rules, allow)
	total := 0
	mixed := append(append(append([]string{}, han...), latin...), noise...)
	for i := range 4000 {
		text := randWord(rng, mixed, 0, 40)
		if i%4 == 0 { // plant a rule word
			text += rules[rng.IntN(len(rules))].Word + randWord(rng, mixed, 0, 5)
		}
		var got []string
		for _, m := range e.Find(text) {
			got = append(got, fmt.Sprintf("%d-%d:%s", m.Start, m.End, m.Rule.Word))
		}
		if !slices.IsSortedFunc(e.Find(text), func(a, b Match) int { return a.Start - b.Start }) {
			t.Fatalf("Find(%q) not ordered by Start", text)
		}
		total += len(got)
		slices.Sort(got)
		if want := bruteFind(e, allow, text); !slices.Equal(got, want) {
			t.Fatalf("Find(%q)\n got  %q\n want %q", text, got, want)
		}
	}
	if total < 4000 {
		t.Fatalf("only %d matches: generator too weak", total)
	}
	t.Logf("%d matches compared", total)
}

func TestNormalizeAgreesWithUnits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := strings.Split("微信ａＢc①⑴ⓦ❶🅰㎏ﬁ @💰\u200bх0", "")
	for range 2000 {
		s := randWord(rng, alphabet, 0, 20)
		var rs []rune
		for _, u := range normalizeUnits(s, nil) {
			rs = append(rs, u.r)
		}
		if string(rs) != Normalize(s) {
			t.Fatalf("units %q != Normalize %q for %q", string(rs), Normalize(s), s)
		}
	}
}
