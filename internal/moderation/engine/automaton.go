package engine

import "slices"

// automaton is an Aho-Corasick automaton over normalised runes. The trie
// is stored in compressed-sparse-row form: the edges of state s are
// labels/targets[edgeOff[s]:edgeOff[s+1]], sorted by label. The root's
// edges are additionally held in a table indexed by rune because every
// failure ends there.
type automaton struct {
	edgeOff []int32
	labels  []rune
	targets []int32
	// rootDense[r] is the root's child on r (0: none) for r below
	// len(rootDense); built only when the root has many children.
	rootDense []int32
	fail      []int32 // failure link of each state
	out       []int32 // pattern ending at this state, or -1
	dict      []int32 // output link: nearest state on the failure chain with out >= 0, or 0
}

// trieEdge is a build-time edge.
type trieEdge struct {
	from  int32
	label rune
	to    int32
}

// buildAutomaton builds the automaton for words; pattern i is words[i].
// Words must be non-empty and distinct.
func buildAutomaton(words [][]rune) *automaton {
	edges, out := buildTrie(words)
	a := &automaton{out: out}
	a.setEdges(edges, len(out))
	a.linkFailures()
	return a
}

// buildTrie inserts every word into a trie and returns its edges and the
// pattern ending at each state.
func buildTrie(words [][]rune) ([]trieEdge, []int32) {
	child := make(map[uint64]int32)
	var edges []trieEdge
	out := []int32{-1}
	for id, w := range words {
		s := int32(0)
		for _, r := range w {
			key := uint64(s)<<32 | uint64(uint32(r))
			next, ok := child[key]
			if !ok {
				next = int32(len(out))
				child[key] = next
				edges = append(edges, trieEdge{s, r, next})
				out = append(out, -1)
			}
			s = next
		}
		out[s] = int32(id)
	}
	return edges, out
}

// setEdges lays the edges out in CSR form and fills the root map.
func (a *automaton) setEdges(edges []trieEdge, states int) {
	slices.SortFunc(edges, func(x, y trieEdge) int {
		if x.from != y.from {
			return int(x.from - y.from)
		}
		return int(x.label - y.label)
	})
	a.edgeOff = make([]int32, states+1)
	a.labels = make([]rune, len(edges))
	a.targets = make([]int32, len(edges))
	for i, e := range edges {
		a.edgeOff[e.from+1]++
		a.labels[i], a.targets[i] = e.label, e.to
	}
	for s := 1; s <= states; s++ {
		a.edgeOff[s] += a.edgeOff[s-1]
	}
	a.setRootDense()
}

// setRootDense indexes the root's children below U+10000 by rune when
// there are enough of them to pay for the table (one int32 per rune up to
// the largest label).
func (a *automaton) setRootDense() {
	lo, hi := a.edgeOff[0], a.edgeOff[1]
	if hi-lo < 256 {
		return
	}
	top := rune(0)
	for _, l := range a.labels[lo:hi] {
		if l < 0x10000 {
			top = max(top, l)
		}
	}
	a.rootDense = make([]int32, top+1)
	for i := lo; i < hi; i++ {
		if l := a.labels[i]; l <= top {
			a.rootDense[l] = a.targets[i]
		}
	}
}

// child returns the trie child of s on r, or -1.
func (a *automaton) child(s int32, r rune) int32 {
	if s == 0 && int(r) < len(a.rootDense) {
		if t := a.rootDense[r]; t != 0 {
			return t
		}
		return -1
	}
	lo, hi := int(a.edgeOff[s]), int(a.edgeOff[s+1])
	if hi-lo <= 8 {
		for i := lo; i < hi; i++ {
			if a.labels[i] == r {
				return a.targets[i]
			}
		}
		return -1
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch l := a.labels[m]; {
		case l == r:
			return a.targets[m]
		case l < r:
			lo = m + 1
		default:
			hi = m
		}
	}
	return -1
}

// linkFailures computes failure and output links breadth-first.
func (a *automaton) linkFailures() {
	n := len(a.out)
	a.fail = make([]int32, n)
	a.dict = make([]int32, n)
	queue := make([]int32, 0, n)
	for i := a.edgeOff[0]; i < a.edgeOff[1]; i++ {
		queue = append(queue, a.targets[i])
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for i := a.edgeOff[s]; i < a.edgeOff[s+1]; i++ {
			c := a.targets[i]
			f := a.step(a.fail[s], a.labels[i])
			a.fail[c] = f
			if a.out[f] >= 0 {
				a.dict[c] = f
			} else {
				a.dict[c] = a.dict[f]
			}
			queue = append(queue, c)
		}
	}
}

// step follows goto/failure transitions from s on r.
func (a *automaton) step(s int32, r rune) int32 {
	for {
		if t := a.child(s, r); t >= 0 {
			return t
		}
		if s == 0 {
			return 0
		}
		s = a.fail[s]
	}
}

// scan runs the automaton over units and calls hit(pattern, lastUnit) for
// every pattern occurrence.
func (a *automaton) scan(units []unit, hit func(pattern int32, last int)) {
	s := int32(0)
	for i := range units {
		s = a.step(s, units[i].r)
		for t := s; t != 0; t = a.dict[t] {
			if a.out[t] >= 0 {
				hit(a.out[t], i)
			}
		}
	}
}
