// Package engine is a prohibited-content matching engine for user-generated
// text. Rules and text are normalised (NFKC, lower case, homoglyph folding,
// removal of symbols, punctuation, spaces, emoji and zero-width characters)
// and matched with an Aho-Corasick automaton in a single pass; matches are
// reported as byte spans of the original text.
//
// Traditional characters are folded to simplified ones (發票 matches 发票)
// with a table generated from the Unicode Han Database: tables_unihan.go is
// written by `go generate` (internal/gen; it reads Debian's unicode-data
// package, `apt-get install -y unicode-data`). A rule can also ask to match
// its pinyin and initials (Rule.Forms), with readings from the same data.
package engine

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
)

// Level is how serious a rule match is.
type Level string

// Rule levels, from most to least strict.
const (
	LevelBlock  Level = "block"
	LevelReview Level = "review"
	// LevelAllow puts a rule's word on the allow-list instead (Build).
	LevelAllow Level = "allow"
)

// Verdicts returned by Engine.Verdict.
const (
	VerdictPass   = "pass"
	VerdictReview = "review"
	VerdictBlock  = "block"
)

// Rule is one prohibited word with its category and level.
type Rule struct {
	Word, Category string
	Level          Level
	// Forms asks for extra spellings of the word's Han characters.
	Forms Forms
}

// Match is one occurrence of a rule in a text.
type Match struct {
	Rule Rule
	// Start and End are byte offsets into the original text; text[Start:End]
	// is the matched span, including any symbols inserted inside it.
	Start, End int
}

// pattern is a normalised word with what it stands for.
type pattern struct {
	rule  int  // index into Engine.rules, or -1 for allow-only words
	allow bool // word is on the allow-list
	// boundStart and boundEnd enforce a Latin word boundary before and
	// after a match: set for words of only [a-z0-9], and at the Latin ends
	// of pinyin spellings.
	boundStart, boundEnd bool
	length               int // length in runes
}

// Engine matches texts against a fixed rule set. It is immutable once
// built and safe for concurrent use.
type Engine struct {
	rules    []Rule
	patterns []pattern
	ac       *automaton
	hasAllow bool
}

// Build validates rules and the allow-list and compiles them. Every rule
// must have a word that is non-empty after Normalize and a level of
// "block" or "review". Rules whose words normalise identically are merged,
// keeping the stricter rule (the first one on a tie). Allow-list words
// suppress any match lying entirely inside one of their occurrences; rules
// of level "allow" are allow-list words too.
func Build(rules []Rule, allow []string) (*Engine, error) {
	e := &Engine{}
	index := make(map[string]int) // normalised word -> pattern
	var words [][]rune
	for i, r := range rules {
		if r.Level == LevelAllow {
			allow = append(allow[:len(allow):len(allow)], r.Word)
			continue
		}
		if err := e.addRule(r, i, index, &words); err != nil {
			return nil, err
		}
	}
	e.addSpellings(index, &words)
	for _, w := range allow {
		n := Normalize(w)
		if n == "" {
			return nil, fmt.Errorf("engine: allow word %q is empty after normalisation", w)
		}
		p, ok := index[n]
		if !ok {
			p = e.newPattern(n, -1, index, &words)
		}
		e.patterns[p].allow = true
		e.hasAllow = true
	}
	e.ac = buildAutomaton(words)
	return e, nil
}

// addRule validates r and adds or merges it.
func (e *Engine) addRule(r Rule, i int, index map[string]int, words *[][]rune) error {
	if r.Level != LevelBlock && r.Level != LevelReview {
		return fmt.Errorf("engine: rule %d (%q): invalid level %q", i, r.Word, r.Level)
	}
	n := Normalize(r.Word)
	if n == "" {
		return fmt.Errorf("engine: rule %d (%q): word is empty after normalisation", i, r.Word)
	}
	p, ok := index[n]
	if !ok {
		e.newPattern(n, len(e.rules), index, words)
		e.rules = append(e.rules, r)
		return nil
	}
	if ri := e.patterns[p].rule; severity(r.Level) > severity(e.rules[ri].Level) {
		e.rules[ri] = r
	}
	return nil
}

// newPattern registers normalised word n and returns its pattern index.
func (e *Engine) newPattern(n string, rule int, index map[string]int, words *[][]rune) int {
	w := []rune(n)
	p := len(e.patterns)
	index[n] = p
	*words = append(*words, w)
	latin := isLatinWord(w)
	e.patterns = append(e.patterns, pattern{rule: rule, boundStart: latin, boundEnd: latin, length: len(w)})
	return p
}

// severity orders levels; higher is stricter.
func severity(l Level) int {
	switch l {
	case LevelBlock:
		return 2
	case LevelReview:
		return 1
	}
	return 0
}

// Len returns the number of distinct rules (after merging duplicates).
func (e *Engine) Len() int { return len(e.rules) }

// unitPool recycles the normalised-text buffers of Find.
var unitPool = sync.Pool{New: func() any { return new([]unit) }}

// maxPooledUnits keeps buffers of very long texts out of the pool.
const maxPooledUnits = 64 << 10

// getUnits normalises text into a pooled buffer; call putUnits after.
func getUnits(text string) *[]unit {
	buf := unitPool.Get().(*[]unit)
	*buf = normalizeUnits(text, (*buf)[:0])
	return buf
}

func putUnits(buf *[]unit) {
	if cap(*buf) <= maxPooledUnits {
		unitPool.Put(buf)
	}
}

// span is a match in unit indices, inclusive.
type span struct {
	rule        int
	first, last int
}

// Find returns every rule match in text ordered by Start (then End, then
// word). Overlapping matches are all reported.
func (e *Engine) Find(text string) []Match {
	if text == "" || len(e.patterns) == 0 {
		return nil
	}
	buf := getUnits(text)
	defer putUnits(buf)
	units := *buf
	var hits, allows []span
	e.ac.scan(units, func(p int32, last int) {
		pt := e.patterns[p]
		s := span{rule: pt.rule, first: last - pt.length + 1, last: last}
		if pt.allow {
			allows = append(allows, s)
		}
		if pt.rule >= 0 && atBoundary(units, s, pt) {
			hits = append(hits, s)
		}
	})
	if len(allows) > 0 {
		hits = suppress(hits, allows, len(units))
	}
	return e.toMatches(units, hits)
}

// AllowSpans returns the byte spans of the original text covered by
// allow-list words, so that a caller combining several engines can drop
// another engine's matches inside them (see Suppress).
func (e *Engine) AllowSpans(text string) [][2]int {
	if !e.hasAllow || text == "" {
		return nil
	}
	buf := getUnits(text)
	defer putUnits(buf)
	units := *buf
	var out [][2]int
	e.ac.scan(units, func(p int32, last int) {
		if pt := e.patterns[p]; pt.allow {
			out = append(out, [2]int{units[last-pt.length+1].start, units[last].end})
		}
	})
	return out
}

// Suppress drops the matches lying entirely inside one of the spans.
func Suppress(ms []Match, spans [][2]int) []Match {
	if len(spans) == 0 {
		return ms
	}
	kept := ms[:0]
	for _, m := range ms {
		inside := false
		for _, sp := range spans {
			if sp[0] <= m.Start && m.End <= sp[1] {
				inside = true
				break
			}
		}
		if !inside {
			kept = append(kept, m)
		}
	}
	return kept
}

// atBoundary reports whether a Latin match is not glued to Latin letters
// or digits. A neighbour only counts when no skipped rune (space,
// punctuation, symbol...) separates it from the match, so "you sb" matches
// "sb" while "usb" does not.
func atBoundary(units []unit, s span, pt pattern) bool {
	if pt.boundStart && s.first > 0 && !units[s.first].gap && isLatinAlnum(units[s.first-1].r) {
		return false
	}
	next := s.last + 1
	return !pt.boundEnd || next >= len(units) || units[next].gap || !isLatinAlnum(units[next].r)
}

// suppress drops hits lying entirely inside an allow-listed occurrence.
func suppress(hits, allows []span, n int) []span {
	maxEnd := make([]int, n) // max last over allows starting at or before i
	for i := range maxEnd {
		maxEnd[i] = -1
	}
	for _, a := range allows {
		maxEnd[a.first] = max(maxEnd[a.first], a.last)
	}
	for i := 1; i < n; i++ {
		maxEnd[i] = max(maxEnd[i], maxEnd[i-1])
	}
	kept := hits[:0]
	for _, h := range hits {
		if maxEnd[h.first] < h.last {
			kept = append(kept, h)
		}
	}
	return kept
}

// toMatches maps unit spans back to original byte offsets and sorts them.
func (e *Engine) toMatches(units []unit, hits []span) []Match {
	if len(hits) == 0 {
		return nil
	}
	ms := make([]Match, len(hits))
	for i, h := range hits {
		ms[i] = Match{Rule: e.rules[h.rule], Start: units[h.first].start, End: units[h.last].end}
	}
	slices.SortStableFunc(ms, func(a, b Match) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End),
			cmp.Compare(a.Rule.Word, b.Rule.Word))
	})
	return ms
}

// Verdict returns "block" if any block rule matches, else "review" if any
// review rule matches, else "pass", together with all matches.
func (e *Engine) Verdict(text string) (verdict string, matches []Match) {
	matches = e.Find(text)
	verdict = VerdictPass
	for _, m := range matches {
		if m.Rule.Level == LevelBlock {
			return VerdictBlock, matches
		}
		verdict = VerdictReview
	}
	return verdict, matches
}
