package engine

import (
	"compress/gzip"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// realRules returns the first n rules of testdata/rules-100k.tsv.gz (see
// internal/testdatagen for how it was made).
func realRules(t testing.TB, n int) []Rule {
	t.Helper()
	f, err := os.Open("testdata/rules-100k.tsv.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := ReadRules(zr)
	if err != nil || len(rules) < n {
		t.Fatalf("%d rules, %v", len(rules), err)
	}
	return rules[:n]
}

// corpus returns testdata/corpus.txt, ordinary shop text, one item a line.
func corpus(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile("testdata/corpus.txt")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// TestFalsePositiveRate checks ordinary product descriptions and comments
// against the 50k rule set, without and with an allow-list. The rates are
// recorded in docs/benchmarks.md.
func TestFalsePositiveRate(t *testing.T) {
	rules := realRules(t, 50_000)
	if rate := falsePositives(t, mustBuild(t, rules, nil)); rate > 0.01 {
		t.Errorf("false-positive rate %.2f%% without an allow-list (want ≤ 1%%)", 100*rate)
	}
	if rate := falsePositives(t, mustBuild(t, rules, []string{"大麻花"})); rate != 0 {
		t.Errorf("false-positive rate %.2f%% with the allow-list (want 0)", 100*rate)
	}
}

func falsePositives(t *testing.T, e *Engine) float64 {
	lines := corpus(t)
	if len(lines) < 500 {
		t.Fatalf("corpus has %d lines", len(lines))
	}
	flagged := 0
	for _, line := range lines {
		if v, ms := e.Verdict(line); v != VerdictPass {
			flagged++
			t.Logf("flagged (%s): %q by %q", v, line, ms[0].Rule.Word)
		}
	}
	rate := float64(flagged) / float64(len(lines))
	t.Logf("false positives: %d of %d lines (%.2f%%)", flagged, len(lines), 100*rate)
	return rate
}

// disguise rewrites a rule the way evaders do: symbols and zero-width
// characters between characters, full-width Latin, traditional forms.
func disguise(word string, i int) string {
	seps := []string{"@", " ", "\u200b", "·", "💰", "", "＊"}
	trad := map[rune]rune{'发': '發', '证': '證', '卖': '賣', '购': '購', '枪': '槍', '独': '獨', '乱': '亂', '办': '辦', '过': '過', '网': '網'}
	var b strings.Builder
	for j, r := range word {
		if j > 0 {
			b.WriteString(seps[(i+j)%len(seps)])
		}
		if tr, ok := trad[r]; ok {
			r = tr
		}
		if r < utf8.RuneSelf && r > ' ' && i%2 == 0 {
			r += 0xFEE0 // full-width form
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TestDisguisedRulesAreFound embeds every 25th rule of the 50k set,
// disguised, in an ordinary comment: each must be found, at its place.
func TestDisguisedRulesAreFound(t *testing.T) {
	rules := realRules(t, 50_000)
	e := mustBuild(t, rules, nil)
	lines := corpus(t)
	for i := 0; i < len(rules); i += 25 {
		d := disguise(rules[i].Word, i)
		prefix := lines[i%len(lines)]
		text := prefix + d + "。" + lines[(i+1)%len(lines)]
		found := false
		for _, m := range e.Find(text) {
			if m.Rule.Word == rules[i].Word && m.Start == len(prefix) && m.End == len(prefix)+len(d) {
				found = true
			}
		}
		if !found {
			t.Errorf("rule %q disguised as %q not found in %q", rules[i].Word, d, text)
		}
	}
}
