package engine

import (
	"strings"
	"sync"
	"testing"
	"unicode"
)

func mustBuild(t testing.TB, rules []Rule, allow []string) *Engine {
	t.Helper()
	e, err := Build(rules, allow)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return e
}

func block(w string) Rule  { return Rule{Word: w, Category: "test", Level: LevelBlock} }
func review(w string) Rule { return Rule{Word: w, Category: "test", Level: LevelReview} }

// spans returns text[Start:End] of every match.
func spans(text string, ms []Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, text[m.Start:m.End])
	}
	return out
}

func TestNormalize(t *testing.T) {
	cases := map[string]string{
		"ｗｅｉｘｉｎ":               "weixin",
		"ⓦⓔⓘⓧⓘⓝ":               "weixin",
		"①②③":                  "l23", // 1 folds to l (homoglyph table)
		"⑴⑵":                   "l2",
		"⓵❷➂➍⓿":                "l234o",
		"🅦🅔🆇":                  "wex",
		"微@信":                  "微信",
		"微 信":                  "微信",
		"微\u200b信":             "微信",
		"微\u200d\ufeff\u2060信": "微信",
		"微💰信":                  "微信",
		"WeiXin!!":             "weixin",
		"Ｏ0o":                  "ooo",
		"vх":                   "vx", // Cyrillic х
		"⒜⒝Ⓐⓑ🄐🄰":               "ababaa",
		"𝟘𝟚٣३〇":                "o233o",
		"₀²":                   "o2",
		"":                     "",
	}
	for in, want := range cases {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEvasions(t *testing.T) {
	e := mustBuild(t, []Rule{block("微信"), block("weixin"), review("qq110")}, nil)
	cases := []struct{ text, span string }{
		{"加微信", "微信"},
		{"加微@信", "微@信"},
		{"加微 信", "微 信"},
		{"加微\u200b信", "微\u200b信"},
		{"加微💰信", "微💰信"},
		{"加ｗｅｉｘｉｎ", "ｗｅｉｘｉｎ"},
		{"加ⓦⓔⓘⓧⓘⓝ", "ⓦⓔⓘⓧⓘⓝ"},
		{"加WEIXIN号", "WEIXIN"},
		{"加 wе1xin", "wе1xin"}, // Cyrillic е, digit 1 for i? no: 1→l, so this must NOT match
		{"qq⑴⑴0", "qq⑴⑴0"},
		{"qq llo", "qq llo"},
		{"qqＯ", ""},
	}
	for _, c := range cases {
		got := spans(c.text, e.Find(c.text))
		want := []string{c.span}
		if c.span == "" || strings.Contains(c.text, "wе1xin") {
			want = nil
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("Find(%q) spans = %q, want %q", c.text, got, want)
		}
	}
}

func TestHomoglyphCyrillic(t *testing.T) {
	e := mustBuild(t, []Rule{block("weixin")}, nil)
	if got := spans("加wеixin", e.Find("加wеixin")); len(got) != 1 || got[0] != "wеixin" {
		t.Fatalf("Cyrillic е not folded: %q", got)
	}
}

func TestPositions(t *testing.T) {
	e := mustBuild(t, []Rule{block("微信")}, nil)
	text := "加微@信好友"
	ms := e.Find(text)
	if len(ms) != 1 {
		t.Fatalf("got %d matches", len(ms))
	}
	if ms[0].Start != 3 || ms[0].End != 10 || text[ms[0].Start:ms[0].End] != "微@信" {
		t.Fatalf("span = [%d,%d) %q", ms[0].Start, ms[0].End, text[ms[0].Start:ms[0].End])
	}
	// Multi-rune expansion keeps the source rune span.
	e2 := mustBuild(t, []Rule{block("kg")}, nil)
	text = "一㎏货"
	if got := spans(text, e2.Find(text)); len(got) != 1 || got[0] != "㎏" {
		t.Fatalf("㎏ span = %q", got)
	}
}

func TestOverlapping(t *testing.T) {
	e := mustBuild(t, []Rule{block("微信"), review("信号"), review("微信号")}, nil)
	text := "我的微信号是"
	got := spans(text, e.Find(text))
	want := []string{"微信", "微信号", "信号"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestVerdict(t *testing.T) {
	e := mustBuild(t, []Rule{review("信号"), block("微信")}, nil)
	for text, want := range map[string]string{
		"":      VerdictPass,
		"你好":    VerdictPass,
		"没有信号":  VerdictReview,
		"微信号":   VerdictBlock,
		"信号和微信": VerdictBlock,
	} {
		if got, ms := e.Verdict(text); got != want {
			t.Errorf("Verdict(%q) = %s (%v), want %s", text, got, ms, want)
		}
	}
}

func TestAllowList(t *testing.T) {
	e := mustBuild(t, []Rule{block("口交"), block("sb")}, []string{"出口交易", "s.b.s"})
	for text, want := range map[string]int{
		"出口交易数据":  0,
		"出口 交易":   0,
		"口交":      1,
		"出口交":     1, // allow word not fully present
		"口交易":     1,
		"出口交易和口交": 1,
		"sbs":     0, // also blocked by word boundary
		"你sbs":    0, // allow-listed "sbs"
		"你sb":     1,
	} {
		if got := len(e.Find(text)); got != want {
			t.Errorf("Find(%q) = %d matches, want %d", text, got, want)
		}
	}
}

func TestLatinBoundaries(t *testing.T) {
	e := mustBuild(t, []Rule{block("ass"), block("sb")}, nil)
	for text, want := range map[string]int{
		"class":       0,
		"assassin":    0,
		"ass":         1,
		"you ass!":    1,
		"usb":         0,
		"USB接口":       0,
		"SB!":         1,
		"Ｓ Ｂ":         1,
		"你是sb吗":       1,
		"你是sb2":       0,
		"s@b":         1,
		"sb😀":         1,
		"you sb":      1, // separated by a space: a boundary
		"a-class act": 0,
	} {
		if got := len(e.Find(text)); got != want {
			t.Errorf("Find(%q) = %d matches, want %d", text, got, want)
		}
	}
}

func TestDuplicates(t *testing.T) {
	e := mustBuild(t, []Rule{
		{Word: "微信", Category: "a", Level: LevelReview},
		{Word: "微 信", Category: "b", Level: LevelBlock},
		{Word: "微@信", Category: "c", Level: LevelReview},
		{Word: "ab", Category: "x", Level: LevelBlock},
		{Word: "AB", Category: "y", Level: LevelBlock},
	}, nil)
	if e.Len() != 2 {
		t.Fatalf("Len = %d, want 2", e.Len())
	}
	ms := e.Find("加微信")
	if len(ms) != 1 || ms[0].Rule.Level != LevelBlock || ms[0].Rule.Category != "b" {
		t.Fatalf("got %+v", ms)
	}
	ms = e.Find("ab")
	if len(ms) != 1 || ms[0].Rule.Category != "x" {
		t.Fatalf("tie should keep first: %+v", ms)
	}
}

func TestBuildErrors(t *testing.T) {
	bad := [][]Rule{
		{{Word: "", Level: LevelBlock}},
		{{Word: " @!💰 ", Level: LevelBlock}},
		{{Word: "ok", Level: "BLOCK"}},
		{{Word: "ok", Level: ""}},
	}
	for _, rs := range bad {
		if _, err := Build(rs, nil); err == nil {
			t.Errorf("Build(%+v) succeeded", rs)
		}
	}
	if _, err := Build([]Rule{block("x")}, []string{"  "}); err == nil {
		t.Error("empty allow word accepted")
	}
}

func TestEmpty(t *testing.T) {
	e := mustBuild(t, nil, nil)
	if e.Len() != 0 || e.Find("anything") != nil {
		t.Fatal("empty engine matched")
	}
	e = mustBuild(t, []Rule{block("微信")}, nil)
	if ms := e.Find(""); ms != nil {
		t.Fatalf("Find(\"\") = %v", ms)
	}
	if v, _ := e.Verdict("@@ \u200b"); v != VerdictPass {
		t.Fatalf("verdict %s", v)
	}
	if ms := e.Find("\xff微\xfe信"); len(ms) != 1 || ms[0].Start != 1 || ms[0].End != 8 {
		t.Fatalf("invalid UTF-8: %+v", ms)
	}
}

func TestConcurrentFind(t *testing.T) {
	e := mustBuild(t, []Rule{block("微信"), review("信号"), block("sb")}, []string{"usb"})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				text := strings.Repeat("加微@信号 sb usb ", 1+(g+i)%4)
				if v, ms := e.Verdict(text); v != VerdictBlock || len(ms) != 3*(1+(g+i)%4) {
					t.Errorf("verdict %s, %d matches", v, len(ms))
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestTraditionalFolding(t *testing.T) {
	e := mustBuild(t, []Rule{block("微信"), block("发票"), review("赌博"), block("台湾独立")}, nil)
	for text, span := range map[string]string{
		"加「微信」":    "微信",
		"代開發票":     "發票",
		"網上賭博平台":   "賭博",
		"臺灣獨立":     "臺灣獨立",
		"代开發 票":    "發 票",
		"乾杯，頭髮很乾淨": "",
	} {
		got := strings.Join(spans(text, e.Find(text)), "|")
		if got != span {
			t.Errorf("Find(%q) = %q, want %q", text, got, span)
		}
	}
	for in, want := range map[string]string{"發票": "发票", "賭博": "赌博", "頭髮": "头发", "乾坤": "乾坤", "著名": "著名", "後來": "后来"} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
	// A traditional rule matches simplified text too.
	e = mustBuild(t, []Rule{block("發票")}, nil)
	if len(e.Find("代开发票")) != 1 {
		t.Error("traditional rule did not match simplified text")
	}
}

func TestTradTableShape(t *testing.T) {
	if n := len(tradSparse); n == 0 || len(tradSimpPairs) < 10000 {
		t.Fatalf("table too small: %d sparse, %d bytes", n, len(tradSimpPairs))
	}
	for r := range tradSparse {
		if r <= 0xFFFF {
			t.Errorf("BMP rune %U outside the dense range would never be folded", r)
		}
	}
	for i, s := range tradDense {
		if s != 0 && foldHan(s) != s {
			t.Errorf("%c folds to %c which folds again", rune(i+hanDenseLo), s)
		}
	}
	if Pinyin('中') != "zhong" || Pinyin('绿') != "lv" || Pinyin('發') != "fa" || Pinyin('a') != "" {
		t.Errorf("readings: %q %q %q", Pinyin('中'), Pinyin('绿'), Pinyin('發'))
	}
}

func TestPinyinForms(t *testing.T) {
	e := mustBuild(t, []Rule{
		{Word: "微信", Category: "ads", Level: LevelBlock, Forms: FormPinyin | FormInitials},
		{Word: "赌博", Category: "fraud", Level: LevelReview, Forms: FormPinyin},
		{Word: "发票", Category: "fraud", Level: LevelBlock},
	}, nil)
	for text, span := range map[string]string{
		"加weixin":      "weixin",
		"加 Wei Xin 聊":  "Wei Xin",
		"加微xin":        "微xin",
		"加wei信":        "wei信",
		"加wx":          "wx",
		"加w信":          "w信",
		"加ＷＸ号":         "ＷＸ",
		"dubo网站":       "dubo",
		"db网站":         "", // 赌博 did not ask for initials
		"fapiao":       "", // 发票 did not ask for pinyin
		"weixinhao":    "", // glued to other Latin letters
		"towx":         "",
		"我的微信":         "微信",
		"加「微信」":        "微信",
		"twixter wx 了": "wx",
	} {
		got := strings.Join(spans(text, e.Find(text)), "|")
		if got != span {
			t.Errorf("Find(%q) = %q, want %q", text, got, span)
		}
	}
	ms := e.Find("加wx")
	if len(ms) != 1 || ms[0].Rule.Word != "微信" || ms[0].Rule.Category != "ads" {
		t.Fatalf("pinyin match reports %+v, want the 微信 rule", ms)
	}
}

func TestPinyinSpellingDoesNotOverrideRule(t *testing.T) {
	e := mustBuild(t, []Rule{
		{Word: "微信", Category: "ads", Level: LevelReview, Forms: FormInitials},
		{Word: "wx", Category: "other", Level: LevelBlock},
	}, nil)
	ms := e.Find("加wx")
	if len(ms) != 1 || ms[0].Rule.Word != "wx" {
		t.Fatalf("got %+v, want the explicit wx rule", ms)
	}
}

func TestParseForms(t *testing.T) {
	for in, want := range map[string]Forms{"": 0, "pinyin": FormPinyin, "initials": FormInitials, "pinyin,initials": FormPinyin | FormInitials} {
		got, err := ParseForms(in)
		if err != nil || got != want || got.String() != in {
			t.Errorf("ParseForms(%q) = %v, %v (String %q)", in, got, err, got.String())
		}
	}
	if _, err := ParseForms("zhuyin"); err == nil {
		t.Error("unknown form accepted")
	}
}

func TestDigitRangesAreWholeDecades(t *testing.T) {
	for _, rg := range unicode.Nd.R16 {
		if rg.Stride != 1 || (rg.Hi-rg.Lo+1)%10 != 0 {
			t.Errorf("Nd range %U..%U stride %d", rg.Lo, rg.Hi, rg.Stride)
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if rg.Stride != 1 || (rg.Hi-rg.Lo+1)%10 != 0 {
			t.Errorf("Nd range %U..%U stride %d", rg.Lo, rg.Hi, rg.Stride)
		}
	}
}

// TestFoldFastPathsAgreeWithTables checks the cached BMP table and the
// emoji shortcut against folding computed from the Unicode tables.
func TestFoldFastPathsAgreeWithTables(t *testing.T) {
	var a, b [8]rune
	for r := range rune(0x10000) {
		if got, want := string(foldRune(a[:0], r)), string(slowFoldRune(b[:0], r)); got != want {
			t.Fatalf("%U: fast %q, slow %q", r, got, want)
		}
	}
	for r := rune(0x1F300); r <= 0x1FAFF; r++ {
		if out := slowFoldRune(b[:0], r); len(out) != 0 {
			t.Fatalf("%U folds to %q, but the emoji shortcut drops it", r, string(out))
		}
	}
}

func TestAllowLevelAndSpans(t *testing.T) {
	e := mustBuild(t, []Rule{block("大麻"), {Word: "大麻花", Category: "food", Level: LevelAllow}}, nil)
	if e.Len() != 1 || len(e.Find("天津大麻花")) != 0 || len(e.Find("出售大麻")) != 1 {
		t.Fatalf("allow rule: len %d, %v, %v", e.Len(), e.Find("天津大麻花"), e.Find("出售大麻"))
	}
	text := "天津大 麻花和大麻"
	allowed := e.AllowSpans(text)
	if len(allowed) != 1 || text[allowed[0][0]:allowed[0][1]] != "大 麻花" {
		t.Fatalf("AllowSpans = %v", allowed)
	}
	other := mustBuild(t, []Rule{block("大麻"), review("麻花")}, nil)
	kept := Suppress(other.Find(text), allowed)
	if got := strings.Join(spans(text, kept), "|"); got != "大麻" {
		t.Fatalf("Suppress kept %q", got)
	}
}
