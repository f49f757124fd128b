package engine

import (
	"fmt"
	"strings"
)

// Forms is a set of extra spellings a rule asks for. Each Han character of
// the word may then also be written as its pinyin or its initial, in any
// mix: 微信 with FormPinyin|FormInitials also matches "weixin", "wei xin",
// "微xin", "wx" and "w信". Readings come from Unihan's kMandarin (one per
// character, the zh-CN one). Latin ends of such spellings must stand at a
// word boundary, as Latin rules do.
type Forms uint8

// Spellings a rule can ask for.
const (
	FormPinyin   Forms = 1 << iota // full toneless pinyin: 微信 → weixin
	FormInitials                   // first letter of each syllable: 微信 → wx
)

// maxSpellings caps the mixed spellings generated per rule; longer words
// get only the all-pinyin and all-initials spellings.
const maxSpellings = 256

// ParseForms parses "pinyin", "initials", "pinyin,initials" or "".
func ParseForms(s string) (Forms, error) {
	var f Forms
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '+' || r == ' ' }) {
		switch part {
		case "pinyin":
			f |= FormPinyin
		case "initials":
			f |= FormInitials
		default:
			return 0, fmt.Errorf("unknown form %q (want pinyin, initials)", part)
		}
	}
	return f, nil
}

// String is the inverse of ParseForms.
func (f Forms) String() string {
	var parts []string
	if f&FormPinyin != 0 {
		parts = append(parts, "pinyin")
	}
	if f&FormInitials != 0 {
		parts = append(parts, "initials")
	}
	return strings.Join(parts, ",")
}

// addSpellings adds the pinyin and initials spellings of every rule that
// asks for them. A spelling that is already a word keeps its own rule
// unless this rule is stricter.
func (e *Engine) addSpellings(index map[string]int, words *[][]rune) {
	for ri, r := range e.rules {
		if r.Forms == 0 {
			continue
		}
		base := []rune(Normalize(r.Word))
		for _, sp := range spellings(base, r.Forms) {
			e.addSpelling(ri, sp, index, words)
		}
	}
}

func (e *Engine) addSpelling(ri int, sp []string, index map[string]int, words *[][]rune) {
	n := strings.Join(sp, "")
	p, ok := index[n]
	if !ok {
		p = e.newPattern(n, ri, index, words)
		e.patterns[p].boundStart = isLatinWord([]rune(sp[0]))
		e.patterns[p].boundEnd = isLatinWord([]rune(sp[len(sp)-1]))
		return
	}
	if old := e.patterns[p].rule; old < 0 || severity(e.rules[ri].Level) > severity(e.rules[old].Level) {
		e.patterns[p].rule = ri
	}
}

// spellings lists the alternative spellings of a normalised word, each as
// its parts (one per character), without the word itself.
func spellings(word []rune, f Forms) [][]string {
	options := make([][]string, len(word))
	total, han := 1, false
	for i, r := range word {
		options[i] = []string{string(r)}
		if py := readings()[r]; py != "" {
			han = true
			if f&FormPinyin != 0 {
				options[i] = append(options[i], py)
			}
			if f&FormInitials != 0 && (f&FormPinyin == 0 || len(py) > 1) {
				options[i] = append(options[i], py[:1])
			}
		}
		total *= len(options[i])
	}
	if !han {
		return nil
	}
	if total > maxSpellings {
		return uniformSpellings(options)
	}
	var out [][]string
	cur := make([]string, len(word))
	var walk func(i int, changed bool)
	walk = func(i int, changed bool) {
		if i == len(word) {
			if changed {
				out = append(out, append([]string(nil), cur...))
			}
			return
		}
		for k, o := range options[i] {
			cur[i] = o
			walk(i+1, changed || k > 0)
		}
	}
	walk(0, false)
	return out
}

// uniformSpellings spells every character the same way: all with option 1
// (pinyin, or initials), then all with option 2 (initials) where present.
func uniformSpellings(options [][]string) [][]string {
	var out [][]string
	for k := 1; k <= 2; k++ {
		sp := make([]string, len(options))
		changed := false
		for i, o := range options {
			sp[i] = o[0]
			if k < len(o) {
				sp[i], changed = o[k], true
			}
		}
		if changed {
			out = append(out, sp)
		}
	}
	return out
}
