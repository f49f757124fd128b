// Package bench holds the parts of `kaidian bench`: a deterministic
// generator of a Chinese catalog, a bulk loader that writes it straight into
// the database, an HTTP load generator and the latency statistics.
package bench

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Spec sizes a generated catalog.
type Spec struct {
	Shops      int    // shops, ids 1..Shops
	SPUs       int    // products in all, dealt round-robin to the shops
	SKUsPerSPU int    // 1 to MaxSKUsPerSPU
	Seed       uint64 // same seed, same catalog
}

// MaxSKUsPerSPU is the most SKUs a generated product has (colours × sizes).
const MaxSKUsPerSPU = 60

// Category tree shape, per shop: Tops top-level categories with
// LeavesPerTop leaves each.
const (
	Tops          = 10
	LeavesPerTop  = 10
	CatsPerShop   = Tops + Tops*LeavesPerTop
	rareWord      = "故宫联名"
	minTitleRunes = 15
	maxTitleRunes = 25
)

// topCategory is a top-level category: its leaves (which are also the
// product nouns), the attributes that suit them and their size dimension.
type topCategory struct {
	name     string
	leaves   []string
	attrs    []string
	sizeName string
	sizes    []string
}

var tree = []topCategory{
	{"女装", f("连衣裙 半身裙 衬衫 T恤 卫衣 外套 阔腿裤 羽绒服 风衣 针织衫"),
		f("纯棉 真丝 雪纺 牛仔 羊毛 亚麻 针织 加绒 冰丝 莫代尔"), "尺码", f("S M L XL XXL")},
	{"男装", f("夹克 西装 牛仔裤 休闲裤 POLO衫 短裤 毛衣 棉服 冲锋衣 背心"),
		f("纯棉 羊毛 亚麻 加绒 冰丝 弹力 免烫 灯芯绒 速干 水洗"), "尺码", f("M L XL XXL 3XL")},
	{"童装", f("儿童套装 儿童外套 儿童卫衣 婴儿连体衣 儿童裤 儿童睡衣 儿童泳衣 校服 儿童羽绒服 儿童裙"),
		f("纯棉 A类 加厚 透气 卡通 宝宝 亲子装 防蚊 珊瑚绒 莱卡"), "身高", f("90cm 100cm 110cm 120cm 130cm")},
	{"鞋靴", f("运动鞋 帆布鞋 高跟鞋 马丁靴 凉鞋 拖鞋 乐福鞋 老爹鞋 雪地靴 板鞋"),
		f("真皮 透气 防滑 软底 增高 厚底 网面 防水 轻便 牛皮"), "鞋码", f("36 37 38 39 40")},
	{"箱包", f("双肩包 手提包 斜挎包 钱包 行李箱 腰包 托特包 电脑包 化妆包 卡包"),
		f("真皮 帆布 尼龙 大容量 防水 轻便 头层牛皮 PU 多隔层 迷你"), "规格", f("小号 中号 大号 加大号 旅行款")},
	{"数码", f("蓝牙耳机 手机壳 充电宝 数据线 充电器 智能手表 机械键盘 无线鼠标 蓝牙音箱 平板保护套"),
		f("无线 快充 降噪 磁吸 超薄 防摔 TypeC 氮化镓 长续航 游戏电竞"), "版本", f("标准版 升级版 Pro版 礼盒装 套装")},
	{"家居", f("四件套 抱枕 收纳盒 台灯 保温杯 毛巾 地毯 窗帘 夏凉被 衣架"),
		f("全棉 北欧风 加厚 可折叠 大容量 日式 简约 实木 不锈钢 防滑"), "规格", f("单件 两件装 三件装 家庭装 礼盒装")},
	{"美妆", f("面膜 口红 洁面乳 精华液 防晒霜 眼影盘 粉底液 香水 护手霜 卸妆水"),
		f("补水 保湿 美白 控油 敏感肌 持久 哑光 滋润 温和 修护"), "规格", f("试用装 30ml 50ml 100ml 套装")},
	{"食品", f("坚果 牛肉干 绿茶 普洱茶 挂耳咖啡 蜂蜜 饼干 月饼 辣条 果干"),
		f("原味 麻辣 低糖 独立包装 手工 有机 特产 零添加 每日 散装"), "规格", f("100克 250克 500克 1000克 礼盒装")},
	{"运动户外", f("瑜伽垫 跑步鞋 运动水壶 登山包 帐篷 哑铃 泳镜 骑行服 跳绳 露营椅"),
		f("加厚 防滑 速干 轻量 专业 折叠 透气 便携 户外 健身"), "规格", f("入门款 标准款 进阶款 专业款 旗舰款")},
}

var (
	seasons   = f("春季 夏季 秋季 冬季 春秋 秋冬 四季 2025 2026")
	styles    = f("新款 韩版 宽松 修身 百搭 复古 简约 时尚 潮流 休闲 法式 气质 网红 日系 原创设计 高端 经典 爆款")
	colours   = f("黑色 白色 红色 藏青色 米白色 卡其色 粉色 灰色 酒红色 墨绿色 杏色 蓝色")
	audiences = f("女士 男士 儿童 学生 大码 情侣 中老年 家用 办公室")
	suffixes  = f("包邮 现货 新品 限时特惠 买一送一 清仓 官方旗舰 正品保证 送礼 热卖")
	subtitles = f("七天无理由 顺丰包邮 品质保证 厂家直销 支持定制 大牌同款 假一赔十 当天发货 赠运费险 会员专享")
	features  = f("做工精细 用料扎实 细节考究 经久耐用 手感舒适 简约大方 性价比高 适合送礼")
)

func f(s string) []string { return strings.Fields(s) }

// Product is one generated SPU with its SKUs, in the columns of the spus
// and skus tables.
type Product struct {
	ID          int64
	ShopID      int64
	CategoryID  int64 // a leaf
	TopID       int64 // the leaf's parent
	Title       string
	Subtitle    string
	Description string
	Images      string // JSON array
	Specs       string // JSON array of {name, values}
	OnShelf     bool
	PriceMin    int64
	PriceMax    int64
	SKUs        []SKU
}

// SKU is one generated variant.
type SKU struct {
	ID         int64
	SpecValues string // JSON array
	Price      int64  // fen
	Stock      int64
	Code       string
}

// Category is one generated category.
type Category struct {
	ID       int64
	ShopID   int64
	ParentID int64 // 0 for a top-level category
	Name     string
	Sort     int64
}

// Dataset is a catalog described by a Spec. Everything in it is a pure
// function of the Spec, so the load generator can pick valid ids and
// words without reading the database.
type Dataset struct{ Spec }

// NewDataset checks spec and returns its dataset.
func NewDataset(spec Spec) (*Dataset, error) {
	switch {
	case spec.Shops < 1:
		return nil, fmt.Errorf("shops must be at least 1")
	case spec.SPUs < spec.Shops:
		return nil, fmt.Errorf("spus must be at least the number of shops")
	case spec.SKUsPerSPU < 1 || spec.SKUsPerSPU > MaxSKUsPerSPU:
		return nil, fmt.Errorf("skus-per-spu must be 1 to %d", MaxSKUsPerSPU)
	}
	return &Dataset{spec}, nil
}

// SKUs is the number of SKUs in the catalog.
func (d *Dataset) SKUs() int { return d.SPUs * d.SKUsPerSPU }

// AppID is the mini-program appid of shop (1-based).
func AppID(shop int64) string { return fmt.Sprintf("wxbe0c%012x", shop) }

// ShopOf returns the shop that owns SPU id.
func (d *Dataset) ShopOf(id int64) int64 { return (id-1)%int64(d.Shops) + 1 }

// OnShelf reports whether SPU id is on the shelf: about 1 in 23 is not,
// so that listings skip some products.
func OnShelf(id int64) bool { return id%23 != 0 }

// TopCategoryID and LeafCategoryID number a shop's categories: the tops
// first, then the leaves.
func TopCategoryID(shop int64, top int) int64 {
	return (shop-1)*CatsPerShop + int64(top) + 1
}

// LeafCategoryID is the id of leaf of top in shop.
func LeafCategoryID(shop int64, top, leaf int) int64 {
	return (shop-1)*CatsPerShop + Tops + int64(top*LeavesPerTop+leaf) + 1
}

// Categories returns shop's category tree, parents before children.
func (d *Dataset) Categories(shop int64) []Category {
	out := make([]Category, 0, CatsPerShop)
	for t, top := range tree {
		out = append(out, Category{ID: TopCategoryID(shop, t), ShopID: shop, Name: top.name, Sort: int64(Tops - t)})
	}
	for t, top := range tree {
		for l, leaf := range top.leaves {
			out = append(out, Category{ID: LeafCategoryID(shop, t, l), ShopID: shop, ParentID: TopCategoryID(shop, t),
				Name: leaf, Sort: int64(LeavesPerTop - l)})
		}
	}
	return out
}

// rng returns the random source of one product: per id, so products can be
// generated in any order, in parallel, and regenerated alone.
func (d *Dataset) rng(id int64) *rand.Rand {
	return rand.New(rand.NewPCG(d.Seed, uint64(id)*0x9e3779b97f4a7c15))
}

// Product generates SPU id (1..SPUs) and its SKUs; SKU ids are
// (id-1)*SKUsPerSPU+1 onwards.
func (d *Dataset) Product(id int64) Product {
	r := d.rng(id)
	t, l := r.IntN(Tops), r.IntN(LeavesPerTop)
	top := tree[t]
	shop := d.ShopOf(id)
	p := Product{ID: id, ShopID: shop, CategoryID: LeafCategoryID(shop, t, l), TopID: TopCategoryID(shop, t),
		OnShelf: OnShelf(id)}
	p.Title = title(r, top, top.leaves[l])
	p.Subtitle = pick(r, subtitles) + " " + pick(r, subtitles)
	p.Description = p.Title + "。" + pick(r, features) + "，" + pick(r, features) + "。" + p.Subtitle + "。"
	p.Images = fmt.Sprintf(`["https://img.example.com/bench/%d/1.jpg","https://img.example.com/bench/%d/2.jpg","https://img.example.com/bench/%d/3.jpg"]`, id, id, id)
	p.Specs, p.SKUs = d.skus(r, id, top)
	for i, s := range p.SKUs {
		if i == 0 || s.Price < p.PriceMin {
			p.PriceMin = s.Price
		}
		p.PriceMax = max(p.PriceMax, s.Price)
	}
	return p
}

func pick(r *rand.Rand, list []string) string { return list[r.IntN(len(list))] }

// title builds a title of 15 to 25 characters (retrying a few times, all
// from the same random stream) like 秋冬新款韩版加绒墨绿色女士卫衣 包邮.
func title(r *rand.Rand, top topCategory, noun string) string {
	var s string
	for range 8 {
		var b strings.Builder
		if r.IntN(10) < 7 {
			b.WriteString(pick(r, seasons))
		}
		b.WriteString(pick(r, styles))
		if r.IntN(10) < 4 {
			b.WriteString(pick(r, styles))
		}
		if r.IntN(5000) == 0 {
			b.WriteString(rareWord)
		}
		b.WriteString(pick(r, top.attrs))
		if r.IntN(10) < 5 {
			b.WriteString(pick(r, top.attrs))
		}
		if r.IntN(10) < 5 {
			b.WriteString(pick(r, colours))
		}
		if r.IntN(10) < 4 {
			b.WriteString(pick(r, audiences))
		}
		b.WriteString(noun)
		if r.IntN(10) < 6 {
			b.WriteString(" " + pick(r, suffixes))
		}
		s = b.String()
		if n := utf8.RuneCountInString(s); n >= minTitleRunes && n <= maxTitleRunes {
			break
		}
	}
	return s
}

// skus makes SKUsPerSPU variants: the first combinations of 颜色 × the
// category's size dimension.
func (d *Dataset) skus(r *rand.Rand, id int64, top topCategory) (string, []SKU) {
	k := d.SKUsPerSPU
	nSizes := min(k, len(top.sizes))
	nColours := (k + nSizes - 1) / nSizes
	start := r.IntN(len(colours))
	cols := make([]string, nColours)
	for i := range cols {
		cols[i] = colours[(start+i)%len(colours)]
	}
	specs, _ := json.Marshal([]struct {
		Name   string   `json:"name"`
		Values []string `json:"values"`
	}{{"颜色", cols}, {top.sizeName, top.sizes[:nSizes]}})
	base := int64(990 + r.IntN(400)*100) // 9.90 to 408.90 yuan
	out := make([]SKU, k)
	for i := range out {
		c, s := cols[i/nSizes], top.sizes[i%nSizes]
		out[i] = SKU{
			ID:         (id-1)*int64(k) + int64(i) + 1,
			SpecValues: `["` + c + `","` + s + `"]`,
			Price:      base + int64(i%nSizes)*500,
			Stock:      int64(r.IntN(1000)),
			Code:       "B" + strconv.FormatInt(id, 10) + "-" + strconv.Itoa(i+1),
		}
	}
	return string(specs), out
}

// Vocabulary is every word titles are made of, for search queries.
func Vocabulary() []string {
	seen := map[string]bool{}
	var out []string
	add := func(list []string) {
		for _, w := range list {
			if !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	add(seasons)
	add(styles)
	add(colours)
	add(audiences)
	add(suffixes)
	for _, t := range tree {
		add(t.attrs)
		add(t.leaves)
	}
	return out
}

// Nouns is every product noun (one per leaf category).
func Nouns() []string {
	var out []string
	for _, t := range tree {
		out = append(out, t.leaves...)
	}
	return out
}
