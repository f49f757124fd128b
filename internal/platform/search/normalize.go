package search

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Normalize returns the form of s that matching is done on: s is NFKC
// normalised (so full-width letters and digits fold to ASCII), lowercased,
// and everything but letters, digits and combining marks (whitespace,
// punctuation, symbols, control and format characters) is dropped.
//
// A query word matches a document when Normalize(word) is a substring of
// Normalize(document text).
func Normalize(s string) string {
	s = norm.NFKC.String(s)
	if isNormal(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if keepRune(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// keepRune reports whether r survives normalisation.
func keepRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r)
}

// isNormal reports whether the NFKC string s is already lowercase and free of
// dropped runes, so Normalize can return it without allocating.
func isNormal(s string) bool {
	for _, r := range s {
		if !keepRune(r) || unicode.ToLower(r) != r {
			return false
		}
	}
	return true
}
