package wxshipping

import (
	"strings"
	"unicode"
)

// carrierCodes maps carrier names staff type to WeChat's delivery_id codes
// (get_delivery_list), which upload_shipping_info wants as express_company.
var carrierCodes = map[string]string{
	"顺丰": "SF", "顺丰速运": "SF", "顺丰快递": "SF",
	"圆通": "YTO", "圆通速递": "YTO", "圆通快递": "YTO",
	"中通": "ZTO", "中通快递": "ZTO",
	"申通": "STO", "申通快递": "STO",
	"韵达": "YD", "韵达快递": "YD", "韵达速递": "YD",
	"极兔": "JTSD", "极兔速递": "JTSD", "极兔快递": "JTSD",
	"邮政EMS": "EMS", "中国邮政EMS": "EMS",
	"京东": "JD", "京东物流": "JD", "京东快递": "JD",
	"德邦": "DBL", "德邦快递": "DBL", "德邦物流": "DBL",
	"宅急送":  "ZJS",
	"中国邮政": "YZPY", "邮政快递包裹": "YZPY", "邮政包裹": "YZPY",
	"百世": "HTKY", "百世快递": "HTKY",
}

// ExpressCompany returns the WeChat delivery code for a carrier: a known
// name's code, else the carrier itself in upper case (staff may type the
// code, "sf" or "YTO"); WeChat refuses what is neither.
func ExpressCompany(carrier string) string {
	carrier = strings.TrimSpace(carrier)
	if code, ok := carrierCodes[carrier]; ok {
		return code
	}
	return strings.ToUpper(carrier)
}

// MaskPhone masks a phone number as WeChat wants a contact for SF: the
// first three and last four digits in clear ("138****8000").
func MaskPhone(phone string) string {
	digits := strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return r
		}
		return -1
	}, phone)
	if len(digits) < 4 {
		return "****"
	}
	head := ""
	if len(digits) >= 11 {
		head = digits[:3]
	}
	return head + "****" + digits[len(digits)-4:]
}
