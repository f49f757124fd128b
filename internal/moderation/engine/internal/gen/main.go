// Command gen writes the engine's Unihan tables (tables_unihan.go): the
// traditional→simplified folding and the Mandarin reading of every
// character, from the Unicode Han Database as Debian's unicode-data package
// installs it (/usr/share/unicode/Unihan_*.txt.bz2).
//
//	apt-get install -y unicode-data
//	go generate ./internal/moderation/engine
//
// The data is the Unicode Character Database's Unihan files, Copyright ©
// Unicode, Inc., distributed under the Unicode License v3
// (https://www.unicode.org/license.txt), which permits redistribution of
// data derived from it with this notice.
//
// Traditional→simplified: a character T maps to S when T's kSimplifiedVariant
// lists S and does not list T itself (乾 lists 乾 and 干: it is also a
// simplified character and stays); characters without a kSimplifiedVariant
// that some simplified character names as its only other kTraditionalVariant
// are added the same way.
//
// Readings: the first kMandarin value (the zh-CN reading), tone marks removed,
// ü written as v, for every character that traditional folding leaves alone.
package main

import (
	"bufio"
	"compress/bzip2"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func main() {
	dir := flag.String("unihan", "/usr/share/unicode", "folder holding Unihan_Variants.txt.bz2 and Unihan_Readings.txt.bz2")
	out := flag.String("o", "tables_unihan.go", "output file")
	flag.Parse()
	simp, trad, err := readVariants(filepath.Join(*dir, "Unihan_Variants.txt.bz2"))
	if err != nil {
		log.Fatal(err)
	}
	folds := tradToSimp(simp, trad)
	readings, err := readReadings(filepath.Join(*dir, "Unihan_Readings.txt.bz2"), folds)
	if err != nil {
		log.Fatal(err)
	}
	src, err := format.Source(render(folds, readings))
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

// eachField calls fn(char, field, values) for every data line of a
// bzip2-compressed Unihan file.
func eachField(path string, fn func(r rune, field string, values []string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w (install Debian's unicode-data package)", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(bzip2.NewReader(f))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 {
			return fmt.Errorf("%s: bad line %q", path, line)
		}
		r, err := parseCode(parts[0])
		if err != nil {
			return err
		}
		if err := fn(r, parts[1], strings.Fields(parts[2])); err != nil {
			return err
		}
	}
	return sc.Err()
}

// parseCode parses "U+4E2D" (with an optional "<source" suffix).
func parseCode(s string) (rune, error) {
	s, _, _ = strings.Cut(s, "<")
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "U+"), 16, 32)
	if err != nil || !strings.HasPrefix(s, "U+") {
		return 0, fmt.Errorf("bad code point %q", s)
	}
	return rune(v), nil
}

func readVariants(path string) (simp, trad map[rune][]rune, err error) {
	simp, trad = map[rune][]rune{}, map[rune][]rune{}
	err = eachField(path, func(r rune, field string, values []string) error {
		var dst map[rune][]rune
		switch field {
		case "kSimplifiedVariant":
			dst = simp
		case "kTraditionalVariant":
			dst = trad
		default:
			return nil
		}
		for _, v := range values {
			c, err := parseCode(v)
			if err != nil {
				return err
			}
			dst[r] = append(dst[r], c)
		}
		return nil
	})
	return simp, trad, err
}

// tradToSimp derives the folding table (see the package comment).
func tradToSimp(simp, trad map[rune][]rune) map[rune]rune {
	folds := map[rune]rune{}
	for t, ss := range simp {
		if !slices.Contains(ss, t) {
			folds[t] = ss[0]
		}
	}
	claims := map[rune][]rune{} // traditional char -> simplified chars naming it
	for s, ts := range trad {
		for _, t := range ts {
			if t != s {
				claims[t] = append(claims[t], s)
			}
		}
	}
	for t, ss := range claims {
		if _, ok := simp[t]; !ok && len(ss) == 1 {
			folds[t] = ss[0]
		}
	}
	for t, s := range folds { // follow chains so that one lookup suffices
		for seen := 0; seen < 8; seen++ {
			next, ok := folds[s]
			if !ok || next == t {
				break
			}
			s = next
		}
		folds[t] = s
	}
	return folds
}

func readReadings(path string, folds map[rune]rune) (map[string][]rune, error) {
	bySyllable := map[string][]rune{}
	err := eachField(path, func(r rune, field string, values []string) error {
		if field != "kMandarin" || len(values) == 0 {
			return nil
		}
		if _, folded := folds[r]; folded {
			return nil
		}
		s := toneless(values[0])
		bySyllable[s] = append(bySyllable[s], r)
		return nil
	})
	return bySyllable, err
}

// toneless removes tone marks: "lǘ" → "lv", "zhōng" → "zhong".
func toneless(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case r == 0x308: // diaeresis: ü
			b.WriteByte('v')
			continue
		case r >= 0x300 && r <= 0x36F:
			continue
		}
		b.WriteRune(r)
	}
	out := b.String()
	return strings.ReplaceAll(out, "uv", "v")
}

func render(folds map[rune]rune, readings map[string][]rune) []byte {
	var b strings.Builder
	b.WriteString("// Code generated by internal/gen from the Unicode Han Database (Unihan_Variants.txt,\n")
	b.WriteString("// Unihan_Readings.txt; Unicode License v3, see internal/gen). DO NOT EDIT.\n\npackage engine\n\n")
	keys := make([]rune, 0, len(folds))
	for t := range folds {
		keys = append(keys, t)
	}
	slices.Sort(keys)
	b.WriteString("// tradSimpPairs holds traditional, simplified rune pairs.\nconst tradSimpPairs = \"\" +\n")
	writeChunks(&b, keys, 32, func(t rune) string { return string(t) + string(folds[t]) })
	syllables := make([]string, 0, len(readings))
	for s := range readings {
		syllables = append(syllables, s)
	}
	slices.Sort(syllables)
	b.WriteString("\n// mandarinReadings maps a toneless pinyin syllable to the characters read so.\nvar mandarinReadings = map[string]string{\n")
	for _, s := range syllables {
		rs := readings[s]
		slices.Sort(rs)
		fmt.Fprintf(&b, "\t%q: %s,\n", s, quoteRunes(rs))
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

// writeChunks writes the items as concatenated string literals, n per line.
func writeChunks(b *strings.Builder, items []rune, n int, item func(rune) string) {
	for i := 0; i < len(items); i += n {
		var line strings.Builder
		for _, r := range items[i:min(i+n, len(items))] {
			line.WriteString(item(r))
		}
		sep := " +\n"
		if i+n >= len(items) {
			sep = "\n"
		}
		fmt.Fprintf(b, "\t%s%s", strconv.Quote(line.String()), sep)
	}
}

// quoteRunes quotes runes as one string literal; every rune is valid UTF-8.
func quoteRunes(rs []rune) string {
	var s strings.Builder
	for _, r := range rs {
		if utf8.ValidRune(r) {
			s.WriteRune(r)
		}
	}
	return strconv.Quote(s.String())
}
