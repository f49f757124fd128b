// Package carriers is the express companies kaidian knows, with the code
// each party uses for them: WeChat's delivery_id (get_delivery_list, which
// upload_shipping_info wants as express_company) and 快递100's company
// code. Staff may type a name, an alias or either code.
package carriers

import "strings"

// Carrier is one express company.
type Carrier struct {
	Code      string   `json:"code" doc:"WeChat's delivery_id, e.g. SF"`
	Name      string   `json:"name"`
	Kuaidi100 string   `json:"kuaidi100" doc:"快递100's company code, e.g. shunfeng"`
	Aliases   []string `json:"aliases" doc:"other names staff may type"`
}

var all = []Carrier{
	{"SF", "顺丰速运", "shunfeng", []string{"顺丰", "顺丰快递"}},
	{"YTO", "圆通速递", "yuantong", []string{"圆通", "圆通快递"}},
	{"ZTO", "中通快递", "zhongtong", []string{"中通"}},
	{"STO", "申通快递", "shentong", []string{"申通"}},
	{"YD", "韵达速递", "yunda", []string{"韵达", "韵达快递"}},
	{"JTSD", "极兔速递", "jtexpress", []string{"极兔", "极兔快递"}},
	{"EMS", "邮政EMS", "ems", []string{"中国邮政EMS", "EMS"}},
	{"YZPY", "邮政快递包裹", "youzhengguonei", []string{"中国邮政", "邮政包裹"}},
	{"JD", "京东物流", "jd", []string{"京东", "京东快递"}},
	{"DBL", "德邦快递", "debangkuaidi", []string{"德邦", "德邦物流"}},
	{"ZJS", "宅急送", "zhaijisong", nil},
	{"HTKY", "百世快递", "huitongkuaidi", []string{"百世"}},
	{"FWX", "丰网速运", "fengwang", []string{"丰网"}},
	{"DNWL", "丹鸟", "danniao", nil},
}

var byKey = func() map[string]Carrier {
	m := map[string]Carrier{}
	for _, c := range all {
		for _, k := range append([]string{c.Code, c.Name, c.Kuaidi100}, c.Aliases...) {
			m[strings.ToUpper(k)] = c
		}
	}
	return m
}()

// All lists the known carriers.
func All() []Carrier { return append([]Carrier(nil), all...) }

// Lookup finds a carrier by name, alias or either code (case-insensitive).
func Lookup(s string) (Carrier, bool) {
	c, ok := byKey[strings.ToUpper(strings.TrimSpace(s))]
	return c, ok
}

// WeChatCode is the WeChat delivery code for what staff typed: a known
// carrier's code, else the text itself in upper case (a code kaidian does
// not list yet); WeChat refuses what is neither.
func WeChatCode(s string) string {
	if c, ok := Lookup(s); ok {
		return c.Code
	}
	return strings.ToUpper(strings.TrimSpace(s))
}
