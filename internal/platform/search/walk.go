package search

import (
	"slices"
	"strings"
)

// walker yields the union of posting lists in descending ID order.
type walker struct {
	ids   []int64 // the shard's ids, by slot
	lists [][]uint32
	pos   []int // lists[i][:pos[i]] are still to be yielded
}

// newWalker starts a walker at the slots with ID < after (all if after <= 0).
func (sh *shard) newWalker(lists [][]uint32, after int64) walker {
	w := walker{ids: sh.ids, lists: lists, pos: make([]int, len(lists))}
	for i, l := range lists {
		w.pos[i] = sh.cursor(l, after)
	}
	return w
}

// cursor returns how many entries of list have an ID < after (all if
// after <= 0).
func (sh *shard) cursor(list []uint32, after int64) int {
	if after <= 0 {
		return len(list)
	}
	return sh.lowerBound(list, after)
}

// next returns the not yet yielded slot with the largest ID, or false when
// done. The lists must be disjoint.
func (w *walker) next() (uint32, bool) {
	best, top := -1, int64(0)
	for i, l := range w.lists {
		if p := w.pos[i]; p > 0 && (best < 0 || w.ids[l[p-1]] > top) {
			best, top = i, w.ids[l[p-1]]
		}
	}
	if best < 0 {
		return 0, false
	}
	w.pos[best]--
	return w.lists[best][w.pos[best]], true
}

// probe answers membership in a posting list for slots of descending ID.
type probe struct {
	ids  []int64
	list []uint32
	hi   int // list[hi:] are above every ID still to be asked about
}

func (sh *shard) newProbes(lists [][]uint32, after int64) []probe {
	ps := make([]probe, len(lists))
	for i, l := range lists {
		ps[i] = probe{ids: sh.ids, list: l, hi: sh.cursor(l, after)}
	}
	return ps
}

// has reports whether slot s is in the list. Successive calls must pass
// slots of strictly descending ID; the search gallops down from the previous
// position, so k calls on a list of n cost O(k log(n/k)).
func (p *probe) has(s uint32) bool {
	l, ids, id := p.list, p.ids, p.ids[s]
	hi := p.hi
	lo, step := hi-1, 1
	for lo >= 0 && ids[l[lo]] > id {
		hi = lo
		lo -= step
		step <<= 1
	}
	lo = max(lo, -1)
	// Invariant: IDs of l[hi:] are > id, and lo < 0 or ID of l[lo] <= id.
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if ids[l[mid]] > id {
			hi = mid
		} else {
			lo = mid
		}
	}
	if lo >= 0 && l[lo] == s {
		p.hi = lo
		return true
	}
	p.hi = hi
	return false
}

// matcher tests candidate slots against a plan.
type matcher struct {
	sh       *shard
	p        *plan
	probes   []probe
	checkCat bool
}

// match reports whether slot s satisfies the query. Slots must be tested in
// descending ID order (the probes rely on it).
func (m *matcher) match(s uint32) bool {
	e := &m.sh.docs[s]
	if (!e.visible && !m.p.hidden) || (e.visible && m.p.only) {
		return false
	}
	if m.checkCat {
		if _, ok := slices.BinarySearch(m.p.cats, e.cat); !ok {
			return false
		}
	}
	for i := range m.probes {
		if !m.probes[i].has(s) {
			// Move the failing probe to the front: it is likely to reject
			// the next candidates too. Skipping probes for some candidates
			// keeps their calls in descending order.
			if i > 0 {
				m.probes[0], m.probes[i] = m.probes[i], m.probes[0]
			}
			return false
		}
	}
	for _, w := range m.p.verify {
		if !strings.Contains(e.text, w) {
			return false
		}
	}
	return true
}

// collect walks the candidates until one past a full page is found, so Next
// is 0 exactly when there are no more matches.
func (m *matcher) collect(w walker, limit int) Result {
	ids := make([]int64, 0, limit+1)
	for len(ids) <= limit {
		s, ok := w.next()
		if !ok {
			break
		}
		if m.match(s) {
			ids = append(ids, m.sh.ids[s])
		}
	}
	if len(ids) <= limit {
		return Result{IDs: ids}
	}
	return Result{IDs: ids[:limit], Next: ids[limit-1]}
}
