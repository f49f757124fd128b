// Command testdatagen writes the engine's benchmark and precision data:
//
//   - testdata/rules-100k.tsv.gz: 100,000 generated Chinese rules in the
//     text rule format (word, category, level); the first 50,000 lines are
//     the 50k set. Each category joins hand-written stems (verbs, contact
//     words, insults, contraband, gambling and porn terms) with real words
//     from jieba's dictionary (Debian package python3-jieba, MIT licence)
//     selected by part of speech and last character: certificates and
//     tickets for fraud, place names for politics, brand-like proper nouns
//     for counterfeits, and so on. The lists are realistic in shape and
//     vocabulary; they are not a real blocklist.
//   - testdata/corpus.txt: ordinary product descriptions and buyer
//     comments, one per line, generated from hand-written sentence
//     fragments (no fragment was taken from the rules' stems).
//
// Run it from the engine folder:
//
//	apt-get download python3-jieba && dpkg-deb -x python3-jieba_*.deb /tmp/jieba
//	go run ./internal/testdatagen -jieba /tmp/jieba/usr/lib/python3/dist-packages/jieba/dict.txt
package main

import (
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

func main() {
	dict := flag.String("jieba", "/usr/lib/python3/dist-packages/jieba/dict.txt", "jieba dict.txt")
	dir := flag.String("o", "testdata", "output folder")
	flag.Parse()
	words, err := readDict(*dict)
	if err != nil {
		log.Fatal(err)
	}
	rules := generateRules(words, 100_000)
	if err := writeRules(*dir+"/rules-100k.tsv.gz", rules); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*dir+"/corpus.txt", []byte(strings.Join(generateCorpus(800), "\n")+"\n"), 0o644); err != nil {
		log.Fatal(err)
	}
}

// entry is one jieba dictionary line.
type entry struct {
	word string
	freq int
	pos  string
}

func readDict(path string) ([]entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []entry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 3 {
			continue
		}
		freq, _ := strconv.Atoi(fs[1])
		out = append(out, entry{fs[0], freq, fs[2]})
	}
	return out, sc.Err()
}

// pick selects Han words of 2..4 characters with the part of speech, a
// minimum frequency and an accepted last character ("" accepts any).
func pick(words []entry, pos string, minFreq int, lastChars string) []string {
	var out []string
	for _, e := range words {
		n := utf8.RuneCountInString(e.word)
		if e.pos != pos || e.freq < minFreq || n < 2 || n > 4 || !allHan(e.word) {
			continue
		}
		last, _ := utf8.DecodeLastRuneInString(e.word)
		if lastChars == "" || strings.ContainsRune(lastChars, last) {
			out = append(out, e.word)
		}
	}
	return out
}

func allHan(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return true
}

func fields(s string) []string { return strings.Fields(s) }

// category is one template: every prefix joined with every stem.
type category struct {
	name, level string
	prefixes    []string
	stems       []string
	quota       int
	suffix      bool // the "prefixes" follow the stem
	bare        bool // the stems are rules on their own too
}

func generateRules(words []entry, total int) []string {
	contraband := append(fields("冰毒 大麻 海洛因 摇头丸 K粉 迷药 听话水 催情药 仿真枪 气枪 猎枪 弓弩 管制刀具 麻醉剂 窃听器 针孔摄像头 手雷 雷管 炸药 氰化物 安眠药 曲马多"),
		pick(words, "n", 3, "枪弹")...)
	cats := []category{
		{"fraud", "block", fields("代开 代办 出售 办理 代做 快速办理 专业代办 包过 代考 伪造 假 办假 制作假 收购 回收 高价回收 低价出售 批量出售 内部渠道 免费领取 无抵押 秒批 代刷 刷单"),
			pick(words, "n", 3, "证卡票照章单书"), 38_000, false, false},
		{"fraud", "review", fields("代办 出售 回收 转让 贷款 套现 办理 包过 速办"),
			pick(words, "n", 3, "证卡票照章单书"), 8_000, true, false},
		{"politics", "review", fields("独立 暴乱 暴动 分裂 游行 示威 骚乱 屠杀 镇压 维权 上访 罢工"),
			pick(words, "ns", 20, ""), 40_000, true, false},
		{"counterfeit", "review", fields("高仿 原单 A货 复刻 精仿 超A 一比一 山寨"),
			pick(words, "nz", 5, ""), 26_000, false, false},
		{"contraband", "block", fields("出售 求购 批发 货到付款 哪里买 购买 代购 网购 邮寄 哪里有卖 出 卖"), contraband, 6_000, false, true},
		{"gambling", "block", fields("网上 在线 线上 真人 网络 手机 澳门 境外 皇冠 正规"),
			fields("赌场 赌博 百家乐 老虎机 六合彩 时时彩 赌球 棋牌 捕鱼 博彩 下注 投注 押注 娱乐城 轮盘 牛牛 炸金花 北京赛车 幸运飞艇 赌局 开户 菠菜 体育投注 彩票平台 网投 外围 盘口"), 4_000, false, true},
		{"porn", "block", fields("同城 上门 免费 在线 高清 午夜 成人 私密 日韩 无码"),
			fields("约炮 裸聊 援交 一夜情 色情 黄片 小电影 激情视频 成人视频 特殊服务 包夜 全套 楼凤 外围女 裸照 偷拍 自拍 福利 资源 直播"), 2_000, false, true},
		{"ads", "review", fields("加 加我 私聊 联系 咨询 扫码 详情加 欢迎加 添加 速加 私信 戳"),
			fields("微信 薇信 威信 V信 vx 扣扣 QQ 企鹅 电话 手机号 公众号 抖音号 小号 客服号 微商"), 1_000, false, false},
		{"abuse", "block", fields("你 你个 你这个 你们这些 死 臭 烂 这个 什么"),
			fields("傻逼 傻B 贱人 婊子 废物 垃圾 王八蛋 狗东西 畜生 脑残 智障 白痴 混蛋 人渣 贱货 蠢货 杂种 狗娘养的 滚犊子 龟孙子 草泥马 尼玛"), 1_000, false, true},
	}
	return assemble(cats, total)
}

// assemble takes each category's quota of distinct phrases. The small
// categories (quota under 10,000) come first so that the 50k set, the
// first half, holds all of them; the large ones follow, shuffled together.
func assemble(cats []category, total int) []string {
	rng := rand.New(rand.NewPCG(2026, 1122))
	seen := map[string]bool{}
	var small, large []string
	for _, c := range cats {
		phrases := c.phrases(seen)
		rng.Shuffle(len(phrases), func(i, j int) { phrases[i], phrases[j] = phrases[j], phrases[i] })
		taken := phrases[:min(c.quota, len(phrases))]
		if c.quota < 10_000 {
			small = append(small, taken...)
		} else {
			large = append(large, taken...)
		}
		log.Printf("%s: %d phrases, %d taken", c.name, len(phrases), len(taken))
	}
	rng.Shuffle(len(small), func(i, j int) { small[i], small[j] = small[j], small[i] })
	rng.Shuffle(len(large), func(i, j int) { large[i], large[j] = large[j], large[i] })
	out := append(small, large...)
	if len(out) < total {
		log.Fatalf("only %d rules", len(out))
	}
	return out[:total]
}

// phrases lists the category's distinct rule lines not yet seen.
func (c category) phrases(seen map[string]bool) []string {
	var out []string
	add := func(w string) {
		if !seen[w] {
			seen[w] = true
			out = append(out, w+"\t"+c.name+"\t"+c.level)
		}
	}
	for _, st := range c.stems {
		if c.bare {
			add(st)
		}
	}
	for _, p := range c.prefixes {
		for _, st := range c.stems {
			if c.suffix {
				add(st + p)
			} else {
				add(p + st)
			}
		}
	}
	return out
}

func writeRules(path string, rules []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	if _, err := fmt.Fprintf(zw, "%s\n", strings.Join(rules, "\n")); err != nil {
		return err
	}
	return zw.Close()
}
