package search

import (
	"cmp"
	"maps"
	"slices"
)

// minDead is how many removed slots a shard keeps before it is considered
// for compaction; beyond it, compaction runs once dead slots exceed a
// quarter of the live ones, which bounds the waste while keeping the
// amortised cost per removal constant.
const minDead = 64

// entry is the per-slot document data.
type entry struct {
	text    string // normalised text
	cat     int64
	alive   bool // false for removed (dead) slots
	visible bool
}

// shard holds one shop's documents and postings.
//
// Slots index ids and docs; a removed document leaves a dead slot until the
// shard is compacted. Every posting list (all, cats, grams) holds the live
// slots containing its key, sorted by ascending document ID, so documents
// may arrive in any order. A new shard is stale: its postings are built in
// one pass on the first read, which makes bulk loading cheap.
type shard struct {
	ids   []int64
	docs  []entry
	all   []uint32            // every live slot
	cats  map[int64][]uint32  // by category id
	grams map[uint64][]uint32 // by unigram / bigram key
	live  int                 // live slots
	dead  int                 // dead slots
	stale bool                // postings not built yet
}

func newShard() *shard {
	return &shard{stale: true}
}

// add appends a new document and returns its slot.
func (sh *shard) add(id int64, e entry) uint32 {
	slot := uint32(len(sh.ids))
	sh.ids = append(sh.ids, id)
	sh.docs = append(sh.docs, e)
	sh.live++
	if !sh.stale {
		sh.post(slot, e)
	}
	return slot
}

// update replaces the data of a live slot, touching only the posting
// lists that change.
func (sh *shard) update(slot uint32, e entry) {
	old := sh.docs[slot]
	sh.docs[slot] = e
	if sh.stale {
		return
	}
	if old.cat != e.cat {
		sh.unpostCat(slot, old.cat)
		sh.postCat(slot, e.cat)
	}
	if old.text != e.text {
		var ob, nb [64]uint64
		oldKeys, newKeys := distinctGrams(ob[:0], old.text), distinctGrams(nb[:0], e.text)
		for _, k := range oldKeys {
			if _, found := slices.BinarySearch(newKeys, k); !found {
				sh.unpostGram(slot, k)
			}
		}
		for _, k := range newKeys {
			if _, found := slices.BinarySearch(oldKeys, k); !found {
				sh.grams[k] = sh.insert(sh.grams[k], slot)
			}
		}
	}
}

// remove turns a live slot into a dead one.
func (sh *shard) remove(slot uint32) {
	old := sh.docs[slot]
	sh.docs[slot] = entry{}
	sh.live--
	sh.dead++
	if !sh.stale {
		sh.unpost(slot, old)
	}
}

// needsCompaction reports whether dead slots should be dropped now.
func (sh *shard) needsCompaction() bool {
	return sh.dead > minDead && sh.dead > sh.live/4
}

// post inserts slot into every posting list of e.
func (sh *shard) post(slot uint32, e entry) {
	sh.all = sh.insert(sh.all, slot)
	sh.postCat(slot, e.cat)
	var buf [64]uint64
	for _, k := range appendDocGrams(buf[:0], e.text) {
		sh.grams[k] = sh.insert(sh.grams[k], slot)
	}
}

// unpost deletes slot from every posting list of e.
func (sh *shard) unpost(slot uint32, e entry) {
	sh.all = sh.delete(sh.all, slot)
	sh.unpostCat(slot, e.cat)
	var buf [64]uint64
	for _, k := range appendDocGrams(buf[:0], e.text) {
		sh.unpostGram(slot, k)
	}
}

func (sh *shard) postCat(slot uint32, cat int64) {
	sh.cats[cat] = sh.insert(sh.cats[cat], slot)
}

func (sh *shard) unpostCat(slot uint32, cat int64) {
	if l := sh.delete(sh.cats[cat], slot); len(l) > 0 {
		sh.cats[cat] = l
	} else {
		delete(sh.cats, cat)
	}
}

func (sh *shard) unpostGram(slot uint32, k uint64) {
	if l := sh.delete(sh.grams[k], slot); len(l) > 0 {
		sh.grams[k] = l
	} else {
		delete(sh.grams, k)
	}
}

// insert adds slot to a posting list if it is not there yet.
func (sh *shard) insert(list []uint32, slot uint32) []uint32 {
	i := sh.lowerBound(list, sh.ids[slot])
	if i < len(list) && list[i] == slot {
		return list
	}
	return slices.Insert(list, i, slot)
}

// delete removes slot from a posting list if it is there.
func (sh *shard) delete(list []uint32, slot uint32) []uint32 {
	i := sh.lowerBound(list, sh.ids[slot])
	if i == len(list) || list[i] != slot {
		return list
	}
	return slices.Delete(list, i, i+1)
}

// lowerBound returns the index of the first slot in list whose ID is >= id.
func (sh *shard) lowerBound(list []uint32, id int64) int {
	if n := len(list); n == 0 || sh.ids[list[n-1]] < id {
		return n // the common case: appending the newest document
	}
	i, _ := slices.BinarySearchFunc(list, id, func(s uint32, id int64) int {
		return cmp.Compare(sh.ids[s], id)
	})
	return i
}

// renumber drops dead slots and renumbers the live ones in ascending ID
// order (for locality). It returns the old-to-new slot mapping; postings
// are left to the caller.
func (sh *shard) renumber() []uint32 {
	order := make([]uint32, 0, sh.live)
	for s, e := range sh.docs {
		if e.alive {
			order = append(order, uint32(s))
		}
	}
	slices.SortFunc(order, func(a, b uint32) int { return cmp.Compare(sh.ids[a], sh.ids[b]) })
	remap := make([]uint32, len(sh.ids))
	ids := make([]int64, len(order))
	docs := make([]entry, len(order))
	for i, s := range order {
		ids[i], docs[i], remap[s] = sh.ids[s], sh.docs[s], uint32(i)
	}
	sh.ids, sh.docs, sh.dead = ids, docs, 0
	return remap
}

// remapPostings rewrites every posting list through remap (from renumber)
// into one exactly sized arena, shedding slack and emptied map entries.
// ID order is unchanged, so the lists stay sorted.
func (sh *shard) remapPostings(remap []uint32) {
	total := len(sh.all)
	for _, l := range sh.cats {
		total += len(l)
	}
	for _, l := range sh.grams {
		total += len(l)
	}
	a := arena(make([]uint32, 0, total))
	sh.all = a.remap(sh.all, remap)
	cats, grams := maps.Clone(sh.cats), maps.Clone(sh.grams)
	for k, l := range cats {
		cats[k] = a.remap(l, remap)
	}
	for k, l := range grams {
		grams[k] = a.remap(l, remap)
	}
	sh.cats, sh.grams = cats, grams
}

// reindex builds all postings from docs, which must hold live documents
// only, in ascending ID order (as left by renumber).
func (sh *shard) reindex() {
	sh.all = make([]uint32, len(sh.docs))
	for i := range sh.all {
		sh.all[i] = uint32(i)
	}
	sh.reindexCats()
	sh.reindexGrams()
	sh.stale = false
}

func (sh *shard) reindexCats() {
	counts := make(map[int64]int)
	for _, e := range sh.docs {
		counts[e.cat]++
	}
	a := arena(make([]uint32, 0, len(sh.docs)))
	sh.cats = make(map[int64][]uint32, len(counts))
	for cat, n := range counts {
		sh.cats[cat] = a.take(n)
	}
	for slot, e := range sh.docs {
		sh.cats[e.cat] = append(sh.cats[e.cat], uint32(slot))
	}
}

// reindexGrams makes two passes over the texts: one to size every list,
// one to fill them. Lists are indexed by position during the build so each
// gram costs a single map lookup per pass.
func (sh *shard) reindexGrams() {
	var buf []uint64
	index := make(map[uint64]int32)
	var counts []int
	for _, e := range sh.docs {
		buf = appendDocGrams(buf[:0], e.text) // duplicates only add slack
		for _, k := range buf {
			if i, ok := index[k]; ok {
				counts[i]++
			} else {
				index[k] = int32(len(counts))
				counts = append(counts, 1)
			}
		}
	}
	a := arena(make([]uint32, 0, sumInts(counts)))
	lists := make([][]uint32, len(counts))
	for i, n := range counts {
		lists[i] = a.take(n)
	}
	for slot, e := range sh.docs {
		for _, k := range appendDocGrams(buf[:0], e.text) {
			l := &lists[index[k]]
			if n := len(*l); n == 0 || (*l)[n-1] != uint32(slot) {
				*l = append(*l, uint32(slot))
			}
		}
	}
	sh.grams = make(map[uint64][]uint32, len(index))
	for k, i := range index {
		sh.grams[k] = lists[i]
	}
}

func sumInts(v []int) int {
	n := 0
	for _, x := range v {
		n += x
	}
	return n
}

// arena hands out posting lists cut from one allocation. Each list has its
// capacity capped (full slice expression), so growing it later reallocates
// instead of overwriting its neighbour.
type arena []uint32

// take returns an empty list with room for n slots.
func (a *arena) take(n int) []uint32 {
	l := (*a)[len(*a) : len(*a) : len(*a)+n]
	*a = (*a)[:len(*a)+n]
	return l
}

// remap returns a copy of list, through remap, cut from the arena.
func (a *arena) remap(list, remap []uint32) []uint32 {
	l := a.take(len(list))
	for _, s := range list {
		l = append(l, remap[s])
	}
	return l
}

// Gram keys pack two runes (21 bits each) into a uint64; a unigram uses
// uniMark, which is not a valid rune, as its second half.
const uniMark = 0x1FFFFF

func bigramKey(a, b rune) uint64 { return uint64(a)<<21 | uint64(b) }

func unigramKey(r rune) uint64 { return bigramKey(r, uniMark) }

// distinctGrams appends the sorted, distinct gram keys of normalised text.
func distinctGrams(keys []uint64, text string) []uint64 {
	keys = appendDocGrams(keys, text)
	slices.Sort(keys)
	return slices.Compact(keys)
}

// appendDocGrams appends the unigram and bigram keys of normalised text,
// possibly with duplicates.
func appendDocGrams(keys []uint64, text string) []uint64 {
	prev := rune(-1)
	for _, r := range text {
		keys = append(keys, unigramKey(r))
		if prev >= 0 {
			keys = append(keys, bigramKey(prev, r))
		}
		prev = r
	}
	return keys
}
