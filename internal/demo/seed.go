// Package demo seeds a demo shop with a Chinese catalog and prints a
// walkthrough, for `kaidian demo`.
package demo

import (
	"context"
	"fmt"

	"github.com/kaidian/kaidian/internal/account"
	"github.com/kaidian/kaidian/internal/achievements"
	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/messaging"
	"github.com/kaidian/kaidian/internal/moderation"
	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/points"
	"github.com/kaidian/kaidian/internal/server"
	"github.com/kaidian/kaidian/internal/shop"
)

// The demo's fixed names. The passwords are for a local demo only.
const (
	AppID            = "wxd0c0ffee00000001"
	AppSecret        = "demo-app-secret-0123456789abcdef"
	OperatorUser     = "admin"
	OwnerUser        = "owner"
	Password         = "kaidian-demo"
	ShopName         = "开店演示店"
	SandboxMount     = "/wechat"
	SandboxControl   = SandboxMount + "/sandbox"
	demoImageBaseURL = "https://img.example.com/demo/"
)

type demoProduct struct {
	category, title, subtitle string
	specs                     []catalog.SpecDim
	basePrice                 int64 // fen
}

func dims(pairs ...any) []catalog.SpecDim {
	var out []catalog.SpecDim
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, catalog.SpecDim{Name: pairs[i].(string), Values: pairs[i+1].([]string)})
	}
	return out
}

var (
	colors  = []string{"黑色", "白色", "雾霾蓝"}
	sizes   = []string{"S", "M", "L"}
	weights = []string{"100克", "250克"}
)

var products = []demoProduct{
	{"女装/连衣裙", "夏季新款碎花连衣裙", "法式复古 收腰显瘦", dims("颜色", []string{"粉色", "蓝色"}, "尺码", sizes), 19900},
	{"女装/连衣裙", "真丝吊带连衣裙", "桑蚕丝 垂感", dims("颜色", colors, "尺码", sizes), 59900},
	{"女装/连衣裙", "针织长款连衣裙", "秋冬打底 修身", dims("颜色", colors, "尺码", sizes), 25900},
	{"女装/T恤", "纯棉圆领短袖T恤", "新疆长绒棉 不易变形", dims("颜色", colors, "尺码", sizes), 7900},
	{"女装/T恤", "宽松印花T恤", "原创插画 情侣款", dims("颜色", []string{"白色", "杏色"}, "尺码", sizes), 9900},
	{"男装/衬衫", "免烫商务长袖衬衫", "抗皱 通勤", dims("颜色", []string{"白色", "浅蓝"}, "尺码", []string{"39", "40", "41", "42"}), 16900},
	{"男装/衬衫", "亚麻休闲短袖衬衫", "透气 夏季", dims("颜色", []string{"米白", "卡其"}, "尺码", sizes), 13900},
	{"男装/裤子", "弹力直筒牛仔裤", "四季款 不掉色", dims("颜色", []string{"深蓝", "浅蓝"}, "腰围", []string{"29", "30", "31", "32"}), 19900},
	{"男装/裤子", "冰丝速干运动裤", "夏季薄款 九分", dims("颜色", []string{"黑色", "灰色"}, "尺码", sizes), 8900},
	{"数码/耳机", "主动降噪蓝牙耳机", "40小时续航 入耳式", dims("颜色", []string{"曜石黑", "珍珠白"}), 39900},
	{"数码/耳机", "头戴式无线耳机", "低延迟 游戏电竞", dims("颜色", []string{"黑色", "白色"}), 29900},
	{"数码/配件", "氮化镓65W快充充电器", "三口 折叠插脚", dims("颜色", []string{"白色"}), 12900},
	{"数码/配件", "磁吸无线充电宝", "10000毫安 轻薄", dims("颜色", []string{"白色", "紫色"}), 15900},
	{"食品/茶叶", "明前西湖龙井绿茶", "2026年新茶 核心产区", dims("规格", weights), 26800},
	{"食品/茶叶", "云南古树普洱熟茶饼", "357克 勐海", dims("年份", []string{"2018年", "2020年"}), 32800},
	{"食品/茶叶", "安溪铁观音清香型", "兰花香 回甘", dims("规格", weights), 15800},
	{"食品/零食", "每日坚果混合装", "30包 独立小袋", dims("规格", []string{"15包", "30包"}), 6990},
	{"食品/零食", "手工麻辣牛肉干", "四川风味 零添加", dims("口味", []string{"麻辣", "五香"}), 4990},
	{"家居/床品", "全棉四件套", "60支贡缎 裸睡级", dims("花色", []string{"浅灰", "雾蓝"}, "尺寸", []string{"1.5米床", "1.8米床"}), 45900},
	{"家居/床品", "大豆纤维夏凉被", "可水洗 空调被", dims("尺寸", []string{"150x200", "200x230"}), 19900},
	{"家居/收纳", "桌面收纳盒三件套", "北欧风 塑料", nil, 3990},
	{"家居/收纳", "可折叠衣物收纳箱", "大容量 带盖", dims("容量", []string{"66升", "100升"}), 5990},
	{"美妆/护肤", "玻尿酸补水面膜", "10片装 敏感肌", nil, 8900},
	{"美妆/护肤", "氨基酸温和洁面乳", "120毫升 男女通用", nil, 6900},
}

// Seed creates the operator, the demo shop, its owner and its catalog, once.
// It reports whether it seeded anything (false when the data was there).
func Seed(ctx context.Context, s *server.Server) (bool, error) {
	if has, err := s.Accounts.HasOperator(ctx); err != nil || has {
		return false, err
	}
	if _, err := s.Accounts.CreateOperator(ctx, account.NewAccount{Username: OperatorUser, DisplayName: "运营管理员", Password: Password}); err != nil {
		return false, err
	}
	secret := AppSecret
	sh, err := s.Shops.Create(ctx, shop.CreateInput{Name: ShopName, AppID: AppID, SubjectType: shop.Enterprise,
		MchID: "1900000109", Secrets: &shop.SecretsInput{AppSecret: &secret}})
	if err != nil {
		return false, err
	}
	if _, err := s.Accounts.CreateStaff(ctx, sh.ID, account.NewAccount{Username: OwnerUser, DisplayName: "店长", Password: Password, Role: auth.RoleOwner}); err != nil {
		return false, err
	}
	if err := seedCatalog(ctx, s.Catalog, sh.ID); err != nil {
		return false, err
	}
	// Points on: 1 point per yuan of goods, 100 points pay ¥1, at most half the goods.
	if _, err := s.Points.SaveSettings(ctx, sh.ID, points.Settings{Enabled: true, EarnPerYuan: 1, RedeemPerYuan: 100, RedeemCapBP: 5000,
		Expiry: points.ExpireEndOfNextYear, ExpiryDays: 365, CoursePoints: 50}); err != nil {
		return false, err
	}
	// A badge for the first order received (walkthrough: the buyer's badges and record).
	if _, err := s.Achievements.CreateBadge(ctx, sh.ID, achievements.BadgeInput{Name: "首单收货", Description: "第一笔订单确认收货",
		Kind: achievements.KindOrders, Threshold: 1}); err != nil {
		return false, err
	}
	if err := seedMessages(ctx, s.Messages, sh.ID); err != nil {
		return false, err
	}
	if err := seedContent(ctx, s, sh.ID); err != nil {
		return false, err
	}
	return true, seedRules(ctx, s.Moderation, sh.ID)
}

// PaidTemplateID is the demo's subscription template for the "paid"
// message, with PaidTemplateKeys; `kaidian demo` adds it to the WeChat
// sandbox, so a buyer who accepts it (the sandbox's subscribe-accept, then
// POST /api/v1/me/subscriptions) gets the message when an order is paid
// (the sandbox's subscribe-messages lists it), and the inbox otherwise.
const PaidTemplateID = "demo-tpl-order-paid"

// PaidTemplateKeys are the keywords of PaidTemplateID.
var PaidTemplateKeys = []string{"thing1", "amount2", "time3", "character_string4"}

func seedMessages(ctx context.Context, m *messaging.Service, shopID int64) error {
	_, err := m.SetTemplate(ctx, shopID, messaging.TemplateInput{Kind: messaging.OrderPaid, TemplateID: PaidTemplateID,
		Page: "pages/order/detail?id={order_id}", Fields: map[string]string{"thing1": "order.title", "amount2": "order.amount",
			"time3": "order.paid_at", "character_string4": "order.no"}})
	return err
}

// rules are a few of the demo shop's own moderation rules, so buyers'
// comments meet the review queue at once (the console's rules screen adds
// more, or imports a file).
var rules = []moderation.NewRule{
	{Word: "加微信", Category: "引流", Level: "review"},
	{Word: "刷单", Category: "欺诈", Level: "block", Forms: "pinyin"},
	{Word: "代开发票", Category: "违法", Level: "block"},
	{Word: "高仿", Category: "假货", Level: "review", Forms: "pinyin"},
}

func seedRules(ctx context.Context, m *moderation.Service, shopID int64) error {
	for _, r := range rules {
		if _, err := m.AddRule(ctx, shopID, r); err != nil {
			return fmt.Errorf("rule %s: %w", r.Word, err)
		}
	}
	return nil
}

func seedCatalog(ctx context.Context, c *catalog.Service, shopID int64) error {
	var csv = "product_key,category,title,subtitle,images,spec,price,stock,sku_code,on_shelf\n"
	for i, p := range products {
		for j, combo := range combinations(p.specs) {
			csv += fmt.Sprintf("p%d,%s,%s,%s,%s,%s,%s,%d,DEMO-%02d-%02d,1\n", i, p.category, p.title, p.subtitle,
				fmt.Sprintf("%sp%d.jpg", demoImageBaseURL, i), combo, yuan(p.basePrice+int64(j%3)*1000), 50+j*7, i, j)
		}
	}
	_, err := c.ImportCSV(ctx, shopID, stringsReader(csv))
	return err
}

// combinations lists every "名:值;名:值" spec combination of dims.
func combinations(d []catalog.SpecDim) []string {
	out := []string{""}
	for _, dim := range d {
		var next []string
		for _, prefix := range out {
			for _, v := range dim.Values {
				sep := ""
				if prefix != "" {
					sep = ";"
				}
				next = append(next, prefix+sep+dim.Name+":"+v)
			}
		}
		out = next
	}
	return out
}

func yuan(fen int64) string { return fmt.Sprintf("%d.%02d", fen/100, fen%100) }
