package search

import (
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
)

const (
	benchDocs  = 200_000
	benchShops = 10
	benchShop  = 3
)

// Word lists for generated product titles.
var (
	seasons   = strings.Fields("春季 夏季 秋季 冬季 春秋 秋冬 四季 2024 2025")
	styles    = strings.Fields("新款 韩版 宽松 修身 百搭 复古 简约 时尚 潮流 休闲 法式 气质 显瘦 高腰 ins风 网红 日系 港风 小清新 原创设计")
	materials = strings.Fields("纯棉 真丝 雪纺 牛仔 羊毛 亚麻 针织 加绒 冰丝 莫代尔 羊绒 涤纶 灯芯绒")
	colors    = strings.Fields("黑色 白色 红色 藏青色 米白色 卡其色 粉色 灰色 酒红色 墨绿色 杏色 蓝色")
	audiences = strings.Fields("女装 男装 童装 学生 大码 情侣 中老年 孕妇")
	nouns     = strings.Fields("连衣裙 半身裙 衬衫 T恤 卫衣 外套 牛仔裤 阔腿裤 羽绒服 风衣 毛衣 针织衫 西装 打底衫 背心 短裤 " +
		"运动鞋 帆布鞋 高跟鞋 马丁靴 凉鞋 拖鞋 双肩包 手提包 斜挎包 钱包 保温杯 抱枕 四件套 收纳盒 台灯 " +
		"蓝牙耳机 手机壳 充电宝 数据线")
	suffixes = strings.Fields("包邮 现货 2024新品 限时特惠 买一送一 清仓 官方旗舰 正品保证")
)

// genDoc generates a product title of about 15-25 characters. The category
// is the product noun's index + 1; one doc in 5,000 is a "故宫联名" edition.
func genDoc(r *rand.Rand, id int64) Doc {
	pick := func(list []string) string { return list[r.IntN(len(list))] }
	maybe := func(p float64, list []string) string {
		if r.Float64() < p {
			return pick(list)
		}
		return ""
	}
	noun := r.IntN(len(nouns))
	var rare string
	if r.IntN(5000) == 0 {
		rare = "故宫联名"
	}
	text := pick(seasons) + pick(styles) + maybe(0.5, styles) + rare + pick(materials) +
		maybe(0.6, colors) + maybe(0.5, audiences) + nouns[noun] + " " + maybe(0.7, suffixes)
	return Doc{ID: id, ShopID: id%benchShops + 1, CategoryID: int64(noun + 1), Text: text, Visible: r.IntN(20) != 0}
}

func genDocs() []Doc {
	r := rand.New(rand.NewPCG(1, 2))
	docs := make([]Doc, benchDocs)
	for i, p := range r.Perm(benchDocs) { // random order: the bulk-load path
		docs[i] = genDoc(r, int64(p+1))
	}
	return docs
}

var bench struct {
	once sync.Once
	ix   *Index
	heap int64 // bytes retained by the built index
}

// benchIndex builds the shared 200k-doc index once and measures its heap.
func benchIndex() *Index {
	bench.once.Do(func() {
		docs := genDocs()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ix := New()
		for _, d := range docs {
			ix.Upsert(d)
		}
		ix.Warm()
		docs = nil
		runtime.GC()
		runtime.ReadMemStats(&after)
		bench.ix, bench.heap = ix, int64(after.HeapAlloc)-int64(before.HeapAlloc)
	})
	return bench.ix
}

func countMatches(ix *Index, q Query) int {
	q.Limit = MaxLimit
	n := 0
	for {
		r := ix.Search(q)
		n += len(r.IDs)
		if r.Next == 0 {
			return n
		}
		q.After = r.Next
	}
}

var benchQueries = []struct {
	name string
	q    Query
}{
	{"common", Query{Text: "夏季"}},
	{"rare", Query{Text: "故宫联名"}},
	{"two-words", Query{Text: "纯棉 连衣裙"}},
	{"category-list", Query{CategoryIDs: []int64{1, 2}}},
	{"no-cooccurrence", Query{Text: "连衣裙 蓝牙耳机"}},
	{"common-page-50", Query{Text: "夏季", After: benchDocs / 2}},
}

// BenchmarkSearch measures one 20-result page per query on a 200k-doc,
// 10-shop index; index-MB is the heap retained by the index, matches the
// total number of matches in the shop (the first page shows 20).
func BenchmarkSearch(b *testing.B) {
	ix := benchIndex()
	for _, bq := range benchQueries {
		q := bq.q
		q.ShopID, q.Limit = benchShop, 20
		b.Run(bq.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ix.Search(q)
			}
			// After the loop: b.Loop's timer reset drops earlier metrics.
			b.ReportMetric(float64(bench.heap)/1e6, "index-MB")
			b.ReportMetric(float64(countMatches(ix, q)), "matches")
		})
	}
}

// BenchmarkSearchParallel runs the query mix from all Ps at once.
func BenchmarkSearchParallel(b *testing.B) {
	ix := benchIndex()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			q := benchQueries[i%len(benchQueries)].q
			q.ShopID, q.Limit = int64(i%benchShops+1), 20
			ix.Search(q)
			i++
		}
	})
}

// BenchmarkBuild measures loading 200k docs in random order plus Warm.
func BenchmarkBuild(b *testing.B) {
	docs := genDocs()
	b.ReportAllocs()
	for b.Loop() {
		ix := New()
		for _, d := range docs {
			ix.Upsert(d)
		}
		ix.Warm()
	}
}

// BenchmarkWrite measures writes to a built 200k-doc index: editing the text
// of a random existing doc, and churn (removing a random doc and adding a
// new newest one, including the amortised compaction of dead slots).
func BenchmarkWrite(b *testing.B) {
	docs := genDocs()
	ix := New()
	for _, d := range docs {
		ix.Upsert(d)
	}
	ix.Warm()
	r := rand.New(rand.NewPCG(3, 4))
	b.Run("edit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d := docs[r.IntN(len(docs))]
			d.Text = genDoc(r, d.ID).Text
			ix.Upsert(d)
		}
	})
	b.Run("churn", func(b *testing.B) {
		b.ReportAllocs()
		next := int64(len(docs))
		for b.Loop() {
			ix.Remove(1 + r.Int64N(next))
			next++
			ix.Upsert(genDoc(r, next))
		}
	})
}
