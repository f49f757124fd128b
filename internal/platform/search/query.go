package search

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// plan is a query prepared outside the lock.
type plan struct {
	keys   []uint64 // distinct gram keys every match must contain
	verify []string // normalised words of 3+ runes: grams alone do not prove them
	cats   []int64  // sorted, distinct; empty = any category
	hidden bool
	only   bool // hidden docs only
}

func newPlan(q Query) *plan {
	p := &plan{hidden: q.IncludeHidden || q.OnlyHidden, only: q.OnlyHidden}
	for _, w := range strings.Fields(q.Text) {
		p.addWord(Normalize(w))
	}
	slices.Sort(p.keys)
	p.keys = slices.Compact(p.keys)
	if len(q.CategoryIDs) > 0 {
		p.cats = slices.Clone(q.CategoryIDs)
		slices.Sort(p.cats)
		p.cats = slices.Compact(p.cats)
	}
	return p
}

// addWord adds the gram keys of a normalised word. One- and two-rune words
// are proven by their single gram; longer ones also need a substring check.
func (p *plan) addWord(w string) {
	switch n := utf8.RuneCountInString(w); {
	case n == 0:
		return
	case n == 1:
		r, _ := utf8.DecodeRuneInString(w)
		p.keys = append(p.keys, unigramKey(r))
		return
	case n > 2:
		p.verify = append(p.verify, w)
	}
	prev := rune(-1)
	for _, r := range w {
		if prev >= 0 {
			p.keys = append(p.keys, bigramKey(prev, r))
		}
		prev = r
	}
}

// search runs p on the shard; ix.mu must be read-locked and the postings
// built.
func (sh *shard) search(p *plan, after int64, limit int) Result {
	lists, ok := sh.gramLists(p.keys)
	if !ok {
		return Result{IDs: []int64{}}
	}
	src, probes, checkCat := sh.driver(lists, p.cats)
	m := matcher{sh: sh, p: p, probes: sh.newProbes(probes, after), checkCat: checkCat}
	return m.collect(sh.newWalker(src, after), limit)
}

// gramLists returns the posting lists of keys, shortest first, or false if
// some key has no documents (so nothing can match).
func (sh *shard) gramLists(keys []uint64) ([][]uint32, bool) {
	lists := make([][]uint32, len(keys))
	for i, k := range keys {
		if lists[i] = sh.grams[k]; len(lists[i]) == 0 {
			return nil, false
		}
	}
	slices.SortFunc(lists, func(a, b []uint32) int { return len(a) - len(b) })
	return lists, true
}

// driver splits the work: the descending union of src yields candidates,
// each of which must also be in every probe list (and in one of the query's
// categories when checkCat). The category lists drive when together they are
// no longer than the shortest gram list; otherwise that gram list drives, or
// every live slot when the query has neither words nor categories.
func (sh *shard) driver(lists [][]uint32, cats []int64) (src, probes [][]uint32, checkCat bool) {
	if len(cats) > 0 {
		total := 0
		for _, c := range cats {
			if l := sh.cats[c]; len(l) > 0 {
				src = append(src, l)
				total += len(l)
			}
		}
		if len(lists) == 0 || total <= len(lists[0]) {
			return src, lists, false
		}
		return lists[:1], lists[1:], true
	}
	if len(lists) == 0 {
		return [][]uint32{sh.all}, nil, false
	}
	return lists[:1], lists[1:], false
}
