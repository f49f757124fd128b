package engine

import (
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// commonHan is a few hundred frequent Chinese characters.
const commonHan = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质"

func genRules(n int) []Rule {
	rng := rand.New(rand.NewPCG(42, 2026))
	han := []rune(commonHan)
	seen := make(map[string]bool, n)
	rules := make([]Rule, 0, n)
	for len(rules) < n {
		w := make([]rune, 2+rng.IntN(5))
		for i := range w {
			w[i] = han[rng.IntN(len(han))]
		}
		if s := string(w); !seen[s] {
			seen[s] = true
			rules = append(rules, Rule{Word: s, Category: "gen", Level: []Level{LevelBlock, LevelReview}[rng.IntN(2)]})
		}
	}
	return rules
}

func genComments(n int) []string {
	rng := rand.New(rand.NewPCG(7, 8))
	han := []rune(commonHan)
	punct := []string{"，", "。", "！", "？", " ", "😀", "~", "2", "ok"}
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for b.Len() < 300 {
			if rng.IntN(8) == 0 {
				b.WriteString(punct[rng.IntN(len(punct))])
			} else {
				b.WriteRune(han[rng.IntN(len(han))])
			}
		}
		out[i] = b.String()
	}
	return out
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkBuild measures building an engine from 50,000 rules and reports
// the heap retained per rule.
func BenchmarkBuild(b *testing.B) {
	rules := genRules(50000)
	var perRule float64
	for b.Loop() {
		before := heapInUse()
		e, err := Build(rules, nil)
		if err != nil {
			b.Fatal(err)
		}
		perRule = float64(heapInUse()-before) / float64(len(rules))
		runtime.KeepAlive(e)
	}
	b.ReportMetric(perRule, "heapB/rule")
}

// BenchmarkVerdict measures matching throughput on ~300-byte comments
// against 50,000 rules.
func BenchmarkVerdict(b *testing.B) {
	e, err := Build(genRules(50000), []string{"发展中国家"})
	if err != nil {
		b.Fatal(err)
	}
	comments := genComments(1000)
	total := 0
	for _, c := range comments {
		total += len(c)
	}
	b.SetBytes(int64(total / len(comments)))
	matches, i := 0, 0
	for b.Loop() {
		_, ms := e.Verdict(comments[i%len(comments)])
		matches += len(ms)
		i++
	}
	b.ReportMetric(float64(matches)/float64(i), "matches/comment")
}
