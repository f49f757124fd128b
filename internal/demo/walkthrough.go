package demo

import (
	"fmt"
	"io"
	"strings"
)

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

// Step is one command of the walkthrough. The demo prints the steps, the
// README shows them (a test keeps the two equal) and cmd/kaidian's test runs
// them against a live demo: one list, so the walkthrough cannot rot.
// Path, Headers and Body may hold <placeholders> that earlier steps saved.
type Step struct {
	Note    string   // the comment above the command
	Method  string   //
	Path    string   // after the base URL
	Headers []string // "Name: value"
	Body    string   // JSON
	// Saves names placeholders filled from the answer: placeholder → field
	// ("" = the whole answer).
	Saves map[string]string
	// Expect is what the answer shows: field path (a.0.b) → value.
	Expect map[string]string
	// Later: the answer reaches Expect by itself within seconds (the test
	// polls; a reader runs the command again).
	Later bool
}

const address = `{"name":"张三","phone":"13800138000","province":"浙江省","city":"杭州市","district":"西湖区","detail":"文三路 1 号"}`

// Steps is the walkthrough: a buyer logs in, searches, buys and pays; the
// owner sees the order, refunds part of it, ships it (the buyer follows the
// parcel) and changes the shop's order rules; the buyer's comment meets a
// moderation rule; the buyer accepts the "paid" subscription message and
// gets it for the next order, the earlier messages being in the inbox; the
// buyer binds a phone with a code sent by SMS.
func Steps() []Step {
	appid := "X-Appid: " + AppID
	buyer, staff := "Authorization: Bearer <token>", "Authorization: Bearer <staff token>"
	return []Step{
		{Note: "1. get a login code from the sandbox (what wx.login gives a mini program). Each openid is one\n" +
			"#    buyer: without \"openid\" you are always the same demo buyer; add \"openid\":\"buyer-2\" for another",
			Method: "POST", Path: SandboxControl + "/login-code", Body: `{"appid":"` + AppID + `"}`, Saves: map[string]string{"<code>": "code"}},
		{Note: "2. log in with that code; keep the token", Method: "POST", Path: "/api/v1/auth/login", Headers: []string{appid},
			Body: `{"code":"<code>"}`, Saves: map[string]string{"<token>": "token"}},
		{Note: "3. search the catalog (Chinese, no spaces needed)", Method: "GET", Path: "/api/v1/products?q=连衣裙", Headers: []string{appid}},
		{Note: "4. view a product with its SKUs", Method: "GET", Path: "/api/v1/products/1", Headers: []string{appid},
			Expect: map[string]string{"title": "夏季新款碎花连衣裙", "skus.0.id": "1"}},
		{Note: "5. who am I (with the token from step 2)", Method: "GET", Path: "/api/v1/me", Headers: []string{buyer}},
		{Note: "6. buy SKU 1 (the Idempotency-Key makes a retry return the same order); keep its id", Method: "POST", Path: "/api/v1/orders",
			Headers: []string{buyer, "Idempotency-Key: demo-order-0001"},
			Body:    `{"items":[{"sku_id":1,"quantity":1}],"address":` + address + `}`,
			Saves:   map[string]string{"<order id>": "id"}, Expect: map[string]string{"status": "pending_payment"}},
		{Note: "7. get the wx.requestPayment parameters for it", Method: "POST", Path: "/api/v1/orders/<order id>/pay", Headers: []string{buyer},
			Saves: map[string]string{"<the JSON of step 7>": ""}},
		{Note: "8. pay, as wx.requestPayment would: the WeChat Pay sandbox sends a signed notification back",
			Method: "POST", Path: PaySandboxMount + "/sandbox/pay/request-payment",
			Body: `{"appid":"` + AppID + `","params":<the JSON of step 7>}`, Expect: map[string]string{"delivered": "true"}},
		{Note: "9. the order is paid", Method: "GET", Path: "/api/v1/orders/<order id>", Headers: []string{buyer},
			Expect: map[string]string{"status": "paid"}},
		{Note: "10. staff: the shop owner logs in (the operator is " + OperatorUser + "); keep the staff token",
			Method: "POST", Path: "/admin/api/v1/auth/login", Body: `{"username":"` + OwnerUser + `","password":"` + Password + `"}`,
			Saves: map[string]string{"<staff token>": "token"}},
		{Note: "11. the shop's orders, newest first", Method: "GET", Path: "/admin/api/v1/orders", Headers: []string{staff},
			Expect: map[string]string{"items.0.status": "paid"}},
		{Note: "12. refund ¥10 of the order (the required Idempotency-Key makes a retry return the same refund): WeChat Pay answers PROCESSING first",
			Method: "POST", Path: "/admin/api/v1/orders/<order id>/refunds",
			Headers: []string{staff, "Idempotency-Key: demo-refund-0001"}, Body: `{"amount":1000,"reason":"少发一件"}`, Expect: map[string]string{"amount": "1000"}},
		{Note: "13. a few seconds later the demo's WeChat Pay has sent the money back (real WeChat: minutes to days)",
			Method: "GET", Path: "/admin/api/v1/orders/<order id>/refunds", Headers: []string{staff},
			Expect: map[string]string{"items.0.status": "succeeded"}, Later: true},
		{Note: "14. staff ship the order with SF Express (顺丰) and its tracking number",
			Method: "POST", Path: "/admin/api/v1/orders/<order id>/ship", Headers: []string{staff},
			Body: `{"carrier":"顺丰","tracking_no":"SF1400000000001"}`, Expect: map[string]string{"status": "shipped"}},
		{Note: "15. the buyer follows the parcel: the demo's 快递100 sandbox moves its route a step every 20 s",
			Method: "GET", Path: "/api/v1/orders/<order id>/parcels", Headers: []string{buyer},
			Expect: map[string]string{"parcels.0.carrier_name": "顺丰速运", "parcels.0.tracking_no": "SF1400000000001"}},
		{Note: "16. the buyer confirms receipt: the demo shop gives 1 point per yuan of goods paid (¥189 after the ¥10 refund)",
			Method: "POST", Path: "/api/v1/orders/<order id>/confirm-receipt", Headers: []string{buyer}},
		{Note: "17. my points, and when they expire (at the end of next year, Asia/Shanghai)", Method: "GET", Path: "/api/v1/me/points",
			Headers: []string{buyer}, Expect: map[string]string{"balance": "189"}},
		{Note: "18. price a checkout paying with 100 points (100 points make ¥1, at most half the goods): what placing it charges",
			Method: "POST", Path: "/api/v1/orders/preview", Headers: []string{buyer},
			Body:   `{"items":[{"sku_id":1,"quantity":1}],"points":100}`,
			Expect: map[string]string{"breakdown.points_discount": "100", "points.balance": "189"}},
		{Note: "19. the shop's order rules: unpaid orders cancelled after 30 minutes, ¥8 shipping, free from ¥99",
			Method: "PATCH", Path: "/admin/api/v1/shop/settings", Headers: []string{staff},
			Body:   `{"orders":{"unpaid_cancel_minutes":30,"shipping_fee":800,"free_shipping_over":9900}}`,
			Expect: map[string]string{"shipping_fee": "800", "unpaid_cancel_minutes": "30"}},
		{Note: "20. a buyer's comment that matches a seeded moderation rule (加微信) waits in the review queue",
			Method: "POST", Path: "/api/v1/contents", Headers: []string{buyer},
			Body: `{"kind":"comment","target":"product:1","text":"好看！加微信领红包"}`, Expect: map[string]string{"status": "pending"}},
		{Note: "21. the buyer taps \"allow\" for the \"paid\" subscription message (what wx.requestSubscribeMessage shows; the sandbox plays the tap)",
			Method: "POST", Path: SandboxControl + "/subscribe-accept", Body: `{"appid":"` + AppID + `","template_id":"` + PaidTemplateID + `"}`,
			Expect: map[string]string{"quota": "1"}},
		{Note: "22. the mini program reports the answer: one acceptance lets one message through",
			Method: "POST", Path: "/api/v1/me/subscriptions", Headers: []string{buyer},
			Body: `{"results":{"` + PaidTemplateID + `":"accept"}}`, Expect: map[string]string{"subscriptions.0.remaining": "1"}},
		{Note: "23. buy again; keep the new order's id", Method: "POST", Path: "/api/v1/orders",
			Headers: []string{buyer, "Idempotency-Key: demo-order-0002"},
			Body:    `{"items":[{"sku_id":1,"quantity":1}],"address":` + address + `}`,
			Saves:   map[string]string{"<order 2 id>": "id"}},
		{Note: "24. its wx.requestPayment parameters", Method: "POST", Path: "/api/v1/orders/<order 2 id>/pay", Headers: []string{buyer},
			Saves: map[string]string{"<the JSON of step 24>": ""}},
		{Note: "25. pay it", Method: "POST", Path: PaySandboxMount + "/sandbox/pay/request-payment",
			Body: `{"appid":"` + AppID + `","params":<the JSON of step 24>}`, Expect: map[string]string{"delivered": "true"}},
		{Note: "26. WeChat delivered the \"paid\" subscription message (the sandbox's log of what it sent)",
			Method: "POST", Path: SandboxControl + "/subscribe-messages", Body: `{"appid":"` + AppID + `"}`,
			Expect: map[string]string{"messages.0.template_id": PaidTemplateID}, Later: true},
		{Note: "27. the first order's messages (paid, partly refunded, shipped), sent before any acceptance, are in the buyer's inbox (站内信), newest first",
			Method: "GET", Path: "/api/v1/me/messages", Headers: []string{buyer},
			Expect: map[string]string{"items.0.kind": "order_shipped", "items.1.kind": "order_refunded", "items.2.kind": "order_paid"}, Later: true},
		{Note: "28. bind a phone by SMS: the shop's SMS account (the demo's Aliyun sandbox) sends a 6-digit code, valid 5 minutes",
			Method: "POST", Path: "/api/v1/me/phone/code", Headers: []string{buyer}, Body: `{"phone":"` + DemoPhone + `"}`,
			Expect: map[string]string{"expires_in": "300"}},
		{Note: "29. the code, from the SMS sandbox's log (what the buyer's phone shows)",
			Method: "POST", Path: SMSControl, Body: `{"phone":"` + DemoPhone + `"}`, Saves: map[string]string{"<sms code>": "code"}},
		{Note: "30. answer it (5 tries per code): the phone is bound to the buyer",
			Method: "POST", Path: "/api/v1/me/phone/verify", Headers: []string{buyer}, Body: `{"phone":"` + DemoPhone + `","code":"<sms code>"}`,
			Expect: map[string]string{"phone": DemoPhone}},
		{Note: "31. check in for today (once a day, Asia/Shanghai, by the server's clock: a second tap answers already_checked_in)",
			Method: "POST", Path: "/api/v1/me/checkin", Headers: []string{buyer}, Body: `{}`, Expect: map[string]string{"streak": "1"}},
		{Note: "32. what to show next to product 1: bought together, also bought, else best sellers of its category and the shop",
			Method: "GET", Path: "/api/v1/products/1/recommendations", Headers: []string{appid}},
		{Note: "33. staff: how many buyers spent at least ¥1, counted live (save it as a segment with POST /admin/api/v1/segments)",
			Method: "POST", Path: "/admin/api/v1/segments/preview", Headers: []string{staff},
			Body: `{"rule":{"all":[{"field":"spent_at_least","value":100}]}}`, Expect: map[string]string{"count": "1"}},
		{Note: "34. the buyer's badges: 首单收货 was earned when the first order was received (step 16)",
			Method: "GET", Path: "/api/v1/me/badges", Headers: []string{buyer}, Expect: map[string]string{"0.name": "首单收货", "0.earned": "true"}},
		{Note: "35. \"my record\" (我的记录): days active, streak, orders received, money spent and saved, points earned, badges",
			Method: "GET", Path: "/api/v1/me/record", Headers: []string{buyer},
			Expect: map[string]string{"orders_received": "1", "streak": "1", "badges": "1"}},
		{Note: "36. paid content: the shop's courses", Method: "GET", Path: "/api/v1/content/courses", Headers: []string{buyer},
			Expect: map[string]string{"items.0.title": "零基础写作课"}},
		{Note: "37. lesson 2 before buying: locked (its first 60 seconds play as a preview)", Method: "GET", Path: "/api/v1/content/lessons/2",
			Headers: []string{buyer}, Expect: map[string]string{"locked": "true"}},
		{Note: "38. what the course costs this buyer now (the order charges exactly this)", Method: "GET", Path: "/api/v1/content/offer?kind=course&id=1",
			Headers: []string{buyer}, Expect: map[string]string{"price_fen": "9900"}},
		{Note: "39. buy it with WeChat virtual payment (虚拟支付): the order and the signed arguments of wx.requestVirtualPayment",
			Method: "POST", Path: "/api/v1/content/orders", Headers: []string{buyer}, Body: `{"items":[{"kind":"course","id":1}],"platform":"android"}`,
			Saves:  map[string]string{"<content order id>": "order.id", "<the payment of step 39>": "payment"},
			Expect: map[string]string{"order.state": "created"}},
		{Note: "40. pay, as wx.requestVirtualPayment would: the sandbox checks both signatures and pushes the delivery to the shop,\n" +
			"#    which asks WeChat (query_order) before it grants the course",
			Method: "POST", Path: SandboxControl + "/xpay-pay", Body: `{"appid":"` + AppID + `","params":<the payment of step 39>}`,
			Expect: map[string]string{"errCode": "0"}},
		{Note: "41. the order is paid", Method: "GET", Path: "/api/v1/content/orders/<content order id>", Headers: []string{buyer},
			Expect: map[string]string{"state": "paid"}, Later: true},
		{Note: "42. lesson 2 is open now", Method: "GET", Path: "/api/v1/content/lessons/2", Headers: []string{buyer},
			Expect: map[string]string{"locked": "false"}, Later: true},
		{Note: "43. learn: 2 minutes into lesson 2", Method: "PUT", Path: "/api/v1/me/lessons/2/progress", Headers: []string{buyer},
			Body: `{"position_sec":120}`},
		{Note: "44. continue where you left off", Method: "GET", Path: "/api/v1/me/learning/continue", Headers: []string{buyer},
			Expect: map[string]string{"items.0.course_id": "1"}},
		{Note: "45. join the 7-day writing camp (it started today, Asia/Shanghai)", Method: "POST", Path: "/api/v1/camps/1/join", Headers: []string{buyer}},
		{Note: "46. check in to day 1 (text and images pass moderation before others see them)", Method: "POST", Path: "/api/v1/me/camps/1/checkins",
			Headers: []string{buyer}, Body: `{"day":1,"text":"今天写了 300 字"}`, Expect: map[string]string{"checkin.day": "1"}},
		{Note: "47. ask the teacher a question on lesson 2; keep its id", Method: "POST", Path: "/api/v1/lessons/2/posts", Headers: []string{buyer},
			Body: `{"kind":"question","text":"开头怎么写才能吸引读者？"}`, Saves: map[string]string{"<question id>": "id"}},
		{Note: "48. staff (the teacher) answer it: learners see the reply marked as the teacher's", Method: "POST",
			Path: "/admin/api/v1/qa/posts/<question id>/replies", Headers: []string{staff}, Body: `{"text":"先写一个具体的场景，再提出问题。"}`},
		{Note: "49. a refund within 3 days of paying: access ends when WeChat accepts it", Method: "POST",
			Path: "/api/v1/content/orders/<content order id>/refund", Headers: []string{buyer}, Body: `{"reason":"想先学免费课"}`,
			Expect: map[string]string{"state": "refunding"}},
		{Note: "50. lesson 2 is locked again", Method: "GET", Path: "/api/v1/content/lessons/2", Headers: []string{buyer},
			Expect: map[string]string{"locked": "true"}},
		{Note: "51. buy the yearly membership (every course for a year)", Method: "POST", Path: "/api/v1/content/orders", Headers: []string{buyer},
			Body: `{"items":[{"kind":"plan","id":1}],"platform":"android"}`, Saves: map[string]string{"<the payment of step 51>": "payment"}},
		{Note: "52. pay it", Method: "POST", Path: SandboxControl + "/xpay-pay", Body: `{"appid":"` + AppID + `","params":<the payment of step 51>}`,
			Expect: map[string]string{"errCode": "0"}},
		{Note: "53. my memberships and courses: a year from today (buying again extends from the end, or from today after a lapse)",
			Method: "GET", Path: "/api/v1/me/content/entitlements", Headers: []string{buyer},
			Expect: map[string]string{"items.0.title": "年度会员", "items.0.active": "true"}, Later: true},
	}
}

// Curl renders a step as the curl command a reader types.
func (s Step) Curl(base string) string {
	var b strings.Builder
	b.WriteString("curl -s")
	if s.Method != "GET" && (s.Body == "" || s.Method != "POST") {
		b.WriteString(" -X " + s.Method)
	}
	url := base + s.Path
	if strings.ContainsAny(url, "?<> ") {
		url = "'" + url + "'"
	}
	b.WriteString(" " + url)
	for _, h := range s.Headers {
		b.WriteString(" -H '" + h + "'")
	}
	if s.Body != "" {
		if b.Len()+len(s.Body) > 110 {
			b.WriteString(" \\\n    ")
		} else {
			b.WriteString(" ")
		}
		b.WriteString("--json '" + s.Body + "'")
	}
	return b.String()
}

// Commands is the walkthrough as commented curl commands against base.
func Commands(base string) string {
	var b strings.Builder
	for i, s := range Steps() {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "# %s\n%s\n", s.Note, s.Curl(base))
	}
	return b.String()
}

// Walkthrough prints where the demo runs and what to try, in one write: a
// reader who sees where it runs (a test watching the output) sees the
// whole walkthrough with it.
func Walkthrough(w io.Writer, base string) {
	var b strings.Builder
	fmt.Fprintf(&b, `
kaidian demo is running at %[1]s   (another port: add --addr 127.0.0.1:9090 to the command)

  Console:      %[1]s/admin/   (the admin console in your browser)
  API:          %[1]s/api/v1/…   (mini programs; send X-Appid: %[2]s)
  Admin API:    %[1]s/admin/api/v1/…
  OpenAPI:      %[1]s/openapi.json
  Metrics:      %[1]s/metrics
  WeChat:       an in-process sandbox at %[1]s%[3]s stands in for api.weixin.qq.com,
                and one at %[1]s%[7]s for WeChat Pay (api.mch.weixin.qq.com); it completes
                refunds by itself after %[8]s

  Operator login: %[4]s / %[6]s      Shop owner login: %[5]s / %[6]s

Try it (in another terminal; replace each <placeholder> with what an earlier step answered):

`, base, AppID, SandboxMount, OperatorUser, OwnerUser, Password, PaySandboxMount, RefundDelay)
	for _, line := range strings.Split(strings.TrimSuffix(Commands(base), "\n"), "\n") {
		if line != "" {
			line = "  " + line
		}
		fmt.Fprintln(&b, line)
	}
	b.WriteString("\nStop with Ctrl-C. Data stays in the data folder; run the demo again to reuse it.\n")
	_, _ = io.WriteString(w, b.String())
}
