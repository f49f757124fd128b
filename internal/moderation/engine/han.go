package engine

import (
	"sync"
	"unicode/utf8"
)

// hanDenseLo and hanDenseHi bound the CJK blocks (Extension A and the
// Unified Ideographs) whose traditional→simplified folding is kept in a
// dense array; the few others are in a map.
const (
	hanDenseLo = 0x3400
	hanDenseHi = 0x9FFF
)

var tradDense, tradSparse = buildTradFold()

// buildTradFold expands the generated pair string.
func buildTradFold() ([]rune, map[rune]rune) {
	dense := make([]rune, hanDenseHi-hanDenseLo+1)
	sparse := make(map[rune]rune)
	s := tradSimpPairs
	for len(s) > 0 {
		t, n := utf8.DecodeRuneInString(s)
		simp, m := utf8.DecodeRuneInString(s[n:])
		s = s[n+m:]
		if t >= hanDenseLo && t <= hanDenseHi {
			dense[t-hanDenseLo] = simp
		} else {
			sparse[t] = simp
		}
	}
	return dense, sparse
}

// foldHan maps a traditional character to its simplified form and leaves
// every other rune as it is.
func foldHan(r rune) rune {
	if r >= hanDenseLo && r <= hanDenseHi {
		if s := tradDense[r-hanDenseLo]; s != 0 {
			return s
		}
		return r
	}
	if r > 0xFFFF {
		if s, ok := tradSparse[r]; ok {
			return s
		}
	}
	return r
}

// readings maps a (simplified) character to its toneless Mandarin reading.
var readings = sync.OnceValue(func() map[rune]string {
	m := make(map[rune]string, 40000)
	for syllable, chars := range mandarinReadings {
		for _, r := range chars {
			m[r] = syllable
		}
	}
	return m
})

// Pinyin returns the toneless pinyin of a Han character ("中" → "zhong"),
// from Unihan's kMandarin (the first, zh-CN reading), or "" if it has none.
// Traditional characters are folded first.
func Pinyin(r rune) string { return readings()[foldHan(r)] }
