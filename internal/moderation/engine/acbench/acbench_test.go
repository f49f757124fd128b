// Package acbench compares the engine with Aho-Corasick libraries from the
// Go module proxy on the same rules and text (the engine's testdata). It
// holds only tests, so the libraries are test-only dependencies.
//
//	go test -run x -bench . -benchmem -cpu 1 ./internal/moderation/engine/acbench/
//
// The engine normalises every text before matching (NFKC, case, look-alikes,
// traditional characters, skipped symbols) and maps matches back to the
// original text; the libraries match the raw text as it is.
package acbench

import (
	"compress/gzip"
	"os"
	"runtime"
	"strings"
	"testing"

	bobu "github.com/BobuSumisu/aho-corasick"
	anknown "github.com/anknown/ahocorasick"
	cloudflare "github.com/cloudflare/ahocorasick"
	petar "github.com/petar-dambovaliev/aho-corasick"

	"github.com/kaidian/kaidian/internal/moderation/engine"
)

// matcher is one library, built on words, returning the number of matches.
type matcher struct {
	name  string
	build func(words []string) func(text string) int
	// max100k is false for libraries too large to build 100k rules here.
	max100k bool
}

var matchers = []matcher{
	{"kaidian", buildKaidian, true},
	{"anknown", buildAnknown, true},
	{"petar", buildPetar, true},
	{"bobu", buildBobu, true},
	{"cloudflare", buildCloudflare, false}, // 3.76 GB at 100k patterns
}

var ruleCache = map[int][]engine.Rule{}

func rules(b *testing.B, n int) []engine.Rule {
	if r, ok := ruleCache[n]; ok {
		return r
	}
	f, err := os.Open("../testdata/rules-100k.tsv.gz")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	all, err := engine.ReadRules(zr)
	if err != nil || len(all) < n {
		b.Fatalf("%d rules: %v", len(all), err)
	}
	ruleCache[n] = all[:n]
	return all[:n]
}

func words(rs []engine.Rule) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Word
	}
	return out
}

var kaidianRules []engine.Rule // the full rules behind the words, set per size

func buildKaidian(words []string) func(string) int {
	e, err := engine.Build(kaidianRules, nil)
	if err != nil {
		panic(err)
	}
	return func(text string) int { return len(e.Find(text)) }
}

func buildAnknown(words []string) func(string) int {
	m := new(anknown.Machine)
	ws := make([][]rune, len(words))
	for i, w := range words {
		ws[i] = []rune(w)
	}
	if err := m.Build(ws); err != nil {
		panic(err)
	}
	return func(text string) int { return len(m.MultiPatternSearch([]rune(text), false)) }
}

func buildPetar(words []string) func(string) int {
	bld := petar.NewAhoCorasickBuilder(petar.Opts{MatchKind: petar.StandardMatch, DFA: true})
	ac := bld.Build(words)
	return func(text string) int {
		n := 0
		for it := ac.IterOverlapping(text); it.Next() != nil; {
			n++
		}
		return n
	}
}

func buildBobu(words []string) func(string) int {
	t := bobu.NewTrieBuilder().AddStrings(words).Build()
	return func(text string) int { return len(t.MatchString(text)) }
}

func buildCloudflare(words []string) func(string) int {
	m := cloudflare.NewStringMatcher(words)
	return func(text string) int { return len(m.MatchThreadSafe([]byte(text))) }
}

func corpusLines(b *testing.B) []string {
	data, err := os.ReadFile("../testdata/corpus.txt")
	if err != nil {
		b.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// comments joins corpus lines into comments of about 300 bytes.
func comments(lines []string) []string {
	var out []string
	var cur strings.Builder
	for _, l := range lines {
		cur.WriteString(l)
		if cur.Len() >= 300 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	return out
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func sizes() []struct {
	name string
	n    int
} {
	return []struct {
		name string
		n    int
	}{{"50k", 50_000}, {"100k", 100_000}}
}

// BenchmarkBuild reports build time (ns/op) and the heap the built matcher
// retains per rule.
func BenchmarkBuild(b *testing.B) {
	for _, size := range sizes() {
		for _, m := range matchers {
			if size.n > 50_000 && !m.max100k {
				continue
			}
			b.Run(m.name+"/"+size.name, func(b *testing.B) {
				rs := rules(b, size.n)
				kaidianRules = rs
				ws := words(rs)
				var perRule float64
				for b.Loop() {
					before := heap()
					f := m.build(ws)
					perRule = float64(heap()-before) / float64(len(ws))
					runtime.KeepAlive(f)
				}
				b.ReportMetric(perRule, "heapB/rule")
			})
		}
	}
}

// BenchmarkMatch scans the whole corpus, one line per call, and reports
// MB/s of text and matches per line.
func BenchmarkMatch(b *testing.B) {
	for _, size := range sizes() {
		for _, m := range matchers {
			if size.n > 50_000 && !m.max100k {
				continue
			}
			b.Run(m.name+"/"+size.name, func(b *testing.B) {
				rs := rules(b, size.n)
				kaidianRules = rs
				find := m.build(words(rs))
				lines := corpusLines(b)
				total := 0
				for _, l := range lines {
					total += len(l)
				}
				b.SetBytes(int64(total))
				found := 0
				for b.Loop() {
					found = 0
					for _, l := range lines {
						found += find(l)
					}
				}
				b.ReportMetric(float64(found)/float64(len(lines)), "matches/line")
			})
		}
	}
}

// BenchmarkComment300 is the engine's verdict on one ~300-byte comment.
func BenchmarkComment300(b *testing.B) {
	for _, size := range sizes() {
		b.Run(size.name, func(b *testing.B) {
			e, err := engine.Build(rules(b, size.n), nil)
			if err != nil {
				b.Fatal(err)
			}
			cs := comments(corpusLines(b))
			b.SetBytes(int64(len(cs[0])))
			i := 0
			for b.Loop() {
				e.Verdict(cs[i%len(cs)])
				i++
			}
		})
	}
}
