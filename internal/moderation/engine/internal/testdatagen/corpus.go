package main

import (
	"math/rand/v2"
	"strings"
)

// Hand-written fragments of ordinary shop text. Products, with a material
// or feature and a selling point, make descriptions; buyers' openings,
// remarks on one aspect and closings make comments.
var (
	products = strings.Fields(`纯棉T恤 雪纺连衣裙 牛仔裤 羊毛衫 羽绒服 运动鞋 帆布鞋 双肩包 保温杯 陶瓷马克杯
		蓝牙耳机 充电宝 数据线 手机壳 机械键盘 无线鼠标 台灯 空气炸锅 电饭煲 破壁机 电动牙刷 吹风机 加湿器
		四件套 乳胶枕 毛巾 拖鞋 收纳盒 晾衣架 保鲜盒 不粘锅 菜刀套装 砧板 洗衣液 洗发水 护手霜 面膜 口红
		防晒霜 婴儿湿巾 纸尿裤 奶瓶 儿童积木 拼图 绘本 钢笔 笔记本 文件夹 茶叶 坚果礼盒 牛肉干 挂耳咖啡
		蜂蜜 大米 橄榄油 猫粮 狗绳 鱼缸 天津大麻花 USB风扇 Type-C充电线 iPhone手机壳 QQ糖 AirPods保护套 classic帆布包 绿萝 多肉盆栽 瑜伽垫 跳绳 哑铃 登山杖 帐篷 遮阳伞 雨衣`)
	materials = strings.Fields(`采用优质面料 选用新疆长绒棉 食品级材质 加厚设计 轻薄透气 大容量 静音设计 可机洗
		环保材料 不含荧光剂 人体工学设计 防滑底 双层密封 快充协议 长续航 高颜值 简约百搭 复古风格 北欧风 日系小清新
		手工缝制 原产地直发 当季新鲜采摘 无添加 低糖配方 天然成分 温和不刺激 多色可选 尺码齐全 可定制刻字 支持USB供电 兼容iPhone和安卓 附赠Type-C转接头`)
	sellingPoints = strings.Fields(`适合日常通勤 送礼自用两相宜 办公室必备 宿舍好物 出行方便携带 居家旅行都能用
		夏天穿很凉快 冬天保暖不臃肿 老人小孩都适用 新手也能轻松上手 一年质保 七天无理由退换 下单后四十八小时内发货
		全国包邮偏远地区除外 支持开具电子发票 买二送一 限时九折 会员积分可抵现 赠送同款收纳袋 附使用说明书`)
	openings = strings.Fields(`收到了 第二次购买了 帮朋友买的 给爸妈买的 给孩子买的 犹豫了很久才下单 双十一囤的货
		用了一个月来评价 物流很快 快递小哥很辛苦 包装很严实 卖家很贴心 客服态度很好 朋友推荐来的 回购无数次了`)
	aspects = strings.Fields(`质量比想象中好 颜色和图片一样 尺码标准 做工很细致 没有异味 味道很香 口感不错 分量很足
		声音清晰 续航挺久 充电速度快 手感很舒服 穿上很显瘦 面料摸起来很软 洗了两次没有掉色 孩子很喜欢
		猫咪很爱吃 安装很简单 说明书写得清楚 性价比很高 比超市便宜 和实体店的一样 有点小瑕疵但不影响使用
		稍微有点大 颜色比图片深一点 发货慢了一天 盒子有点压痕 线头有点多 味道散了几天就没了`)
	closings = strings.Fields(`五星好评 推荐购买 还会再来 已经推荐给同事了 下次还买这家 总体满意 给个好评吧
		希望卖家继续保持 值得入手 物美价廉 谢谢老板 很满意的一次购物 追评一下依然好用 已分享到朋友圈 晒单截图发群里了 还在QQ群里推荐了 就是价格再便宜点就好了`)
	punct = []string{"，", "。", "！", "～", " ", "，", "😊", "👍", "！！", "。。。"}
)

// generateCorpus returns n lines: about one in three a product
// description, the rest buyer comments.
func generateCorpus(n int) []string {
	rng := rand.New(rand.NewPCG(11, 22))
	one := func(list []string) string { return list[rng.IntN(len(list))] }
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		var line string
		if rng.IntN(3) == 0 {
			line = one(products) + "，" + one(materials) + "，" + one(materials) + "，" + one(sellingPoints) + "。" + one(sellingPoints) + "。"
		} else {
			line = one(openings) + one(punct) + one(aspects) + one(punct) + one(aspects) + one(punct) + one(closings) + one(punct)
			if rng.IntN(4) == 0 {
				line = one(products) + one(punct) + line
			}
		}
		if !seen[line] {
			seen[line] = true
			out = append(out, line)
		}
	}
	return out
}
