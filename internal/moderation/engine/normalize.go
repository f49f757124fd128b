package engine

import (
	"strconv"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// unit is one significant rune of the normalised stream together with the
// byte span of the original rune it came from.
type unit struct {
	r          rune
	start, end int  // byte offsets of the source rune in the original text
	gap        bool // at least one skipped rune separates it from the previous unit
}

// homoglyphs folds look-alike runes (already lower-cased) onto one Latin
// letter. The table is deliberately small and conservative:
//   - digits that are commonly substituted inside Latin words: 0→o, 1→l;
//   - Cyrillic and Greek lower-case letters whose glyphs are identical to
//     Latin ones in common fonts (а е о р с у х і ј ѕ ο ν ρ).
//
// It is applied to rules and text alike, so rule "qq110" is stored as
// "qqllo" and still matches the text "qq110".
var homoglyphs = map[rune]rune{
	'0': 'o', '1': 'l',
	'а': 'a', 'е': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'у': 'y', 'х': 'x',
	'і': 'i', 'ј': 'j', 'ѕ': 's',
	'ο': 'o', 'ν': 'v', 'ρ': 'p',
}

// asciiDigit maps decimal digits of other scripts (Arabic-Indic ٣,
// Devanagari ३, …, which NFKC keeps) and the ideographic zero 〇 to ASCII
// digits; other runes are returned as they are. Every range of Unicode's
// Nd category is a run of whole 0..9 sequences.
func asciiDigit(r rune) rune {
	if r == '〇' {
		return '0'
	}
	if !unicode.Is(unicode.Nd, r) {
		return r
	}
	for _, rg := range unicode.Nd.R16 {
		if lo, hi := rune(rg.Lo), rune(rg.Hi); r >= lo && r <= hi {
			return '0' + (r-lo)%10
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if lo, hi := rune(rg.Lo), rune(rg.Hi); r >= lo && r <= hi {
			return '0' + (r-lo)%10
		}
	}
	return r
}

// extraFold covers enclosed letters and digits that NFKC leaves unchanged
// (negative / double circled and dingbat digits, negative circled and
// negative squared Latin capitals).
func extraFold(r rune) (string, bool) {
	switch {
	case r >= 0x24EB && r <= 0x24F4: // ⓫..⓴
		return strconv.Itoa(int(r-0x24EB) + 11), true
	case r >= 0x24F5 && r <= 0x24FE: // ⓵..⓾
		return strconv.Itoa(int(r-0x24F5) + 1), true
	case r == 0x24FF, r == 0x1F10B, r == 0x1F10C: // ⓿ 🄋 🄌
		return "0", true
	case r >= 0x2776 && r <= 0x2793: // ❶..❿ ➀..➉ ➊..➓
		return strconv.Itoa(int(r-0x2776)%10 + 1), true
	case r >= 0x1F150 && r <= 0x1F169: // 🅐..🅩
		return string('a' + (r - 0x1F150)), true
	case r >= 0x1F170 && r <= 0x1F189: // 🅰..🆉
		return string('a' + (r - 0x1F170)), true
	}
	return "", false
}

// bmpFold caches foldRune for the Basic Multilingual Plane: the one rune a
// BMP rune folds to, 0 if it folds to nothing, or -1 if it expands to
// several runes. It is filled on first use (about 10 ms).
var bmpFold = sync.OnceValue(func() []rune {
	t := make([]rune, 0x10000)
	var tmp [8]rune
	for r := range rune(0x10000) {
		switch out := slowFoldRune(tmp[:0], r); len(out) {
		case 0:
		case 1:
			t[r] = out[0]
		default:
			t[r] = -1
		}
	}
	return t
})

// foldRune appends the normalised, significant runes produced by r to dst.
// Insignificant runes (anything that is not a letter or number after
// NFKC: spaces, punctuation, symbols, emoji, marks, format characters such
// as U+200B..U+200D, U+2060, U+FEFF) produce nothing.
func foldRune(dst []rune, r rune) []rune {
	if r < 0x10000 {
		switch f := bmpFold()[r]; f {
		case 0:
			return dst
		case -1:
		default:
			return append(dst, f)
		}
	}
	if r >= 0x1F300 && r <= 0x1FAFF { // pictographs and emoji: all symbols
		return dst
	}
	return slowFoldRune(dst, r)
}

// slowFoldRune is foldRune computed from the Unicode tables.
func slowFoldRune(dst []rune, r rune) []rune {
	if r < utf8.RuneSelf {
		return appendSignificant(dst, r)
	}
	if r >= 0x4E00 && r <= 0x9FFF { // CJK Unified Ideographs: NFKC-stable
		return append(dst, foldHan(r))
	}
	if s, ok := extraFold(r); ok {
		for _, c := range s {
			dst = appendSignificant(dst, c)
		}
		return dst
	}
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	if len(norm.NFKC.Properties(buf[:n]).Decomposition()) == 0 {
		return appendSignificant(dst, r)
	}
	var out [32]byte
	for _, c := range string(norm.NFKC.Append(out[:0], buf[:n]...)) {
		dst = appendSignificant(dst, c)
	}
	return dst
}

// appendSignificant lower-cases r, applies the homoglyph table and appends
// the result if it is a letter or a number.
func appendSignificant(dst []rune, r rune) []rune {
	if r < utf8.RuneSelf {
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return dst
		}
	} else {
		r = unicode.ToLower(r)
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) {
			return dst
		}
		r = foldHan(asciiDigit(r))
	}
	if h, ok := homoglyphs[r]; ok {
		r = h
	}
	return append(dst, r)
}

// normalizeUnits converts text into the normalised stream used for
// matching, keeping for every unit the byte span of its source rune.
func normalizeUnits(text string, dst []unit) []unit {
	table := bmpFold()
	var tmp [8]rune
	gap := false
	for i, r := range text {
		if r < 0x10000 && table[r] > 0 { // the common case: one rune in, one out
			dst = append(dst, unit{r: table[r], start: i, end: i + utf8.RuneLen(r), gap: gap})
			gap = false
			continue
		}
		rs := foldRune(tmp[:0], r)
		if len(rs) == 0 {
			gap = true
			continue
		}
		end := i + utf8.RuneLen(r)
		if r == utf8.RuneError {
			end = i + 1
		}
		for _, c := range rs {
			dst = append(dst, unit{r: c, start: i, end: end, gap: gap})
			gap = false
		}
	}
	return dst
}

// Normalize returns the normalised form of s that matching operates on:
// per-rune NFKC plus a small table for enclosed characters NFKC misses,
// lower case, the homoglyph table, traditional Chinese characters folded
// to simplified ones (Unihan), and with every rune that is not a letter or
// number removed.
func Normalize(s string) string {
	var tmp [8]rune
	out := make([]rune, 0, len(s))
	for _, r := range s {
		out = append(out, foldRune(tmp[:0], r)...)
	}
	return string(out)
}

// isLatinAlnum reports whether r counts as a Latin letter or digit for the
// word-boundary check of Latin rules.
func isLatinAlnum(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
	}
	return unicode.Is(unicode.Latin, r)
}

// isLatinWord reports whether a normalised word consists only of [a-z0-9].
func isLatinWord(w []rune) bool {
	for _, r := range w {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
