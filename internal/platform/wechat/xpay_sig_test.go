package wechat

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
)

// The vectors of the reference (wechat-xpay-messages-sms.md §1).
func TestXPaySignaturesMatchTheDocumentation(t *testing.T) {
	doc := `{"offerId":"123","buyQuantity":1,"env":0,"currencyType":"CNY","productId":"testproductId","goodsPrice":10,"outTradeNo":"xxxxxx","attach":"testdata"}`
	// signData is encoded in the documentation's field order, compact.
	data, err := compactJSON(signData{OfferID: "123", BuyQuantity: 1, Env: 0, CurrencyType: "CNY", ProductID: "testproductId",
		GoodsPrice: 10, OutTradeNo: "xxxxxx", Attach: "testdata"})
	if err != nil || string(data) != doc {
		t.Fatalf("signData = %s %v, want %s", data, err, doc)
	}
	if got := XPayPaySig("12345", "requestVirtualPayment", data); got != "0ce2a9fcab3532e9f78dd3beb841806c0c08a24ec26b04c366584ac06d852bb0" {
		t.Errorf("paySig = %s", got)
	}
	body := []byte(`{"openid": "xxx", "user_ip": "127.0.0.1", "env": 0}`)
	if got := XPayPaySig("12345", "/xpay/query_user_balance", body); got != "c37809f27c6d7fd1837ad2500a04512b66b34fd793a39a385fade56dca89a4b5" {
		t.Errorf("pay_sig = %s", got)
	}
	if got := XPayUserSig("9hAb/NEYUlkaMBEsmFgzig==", body); got != "089d9e8dc5d308977360c4b79ec600a93d736802802a807d634192328032f6c7" {
		t.Errorf("signature = %s", got)
	}
}

func TestSignVirtualPayment(t *testing.T) {
	keys := XPayKeys{OfferID: "1450000001", AppKey: "prod-key", SandboxAppKey: "sandbox-key"}
	p := VirtualPayment{Env: 1, ProductID: "vip_30", GoodsPrice: 990, BuyQuantity: 2, OutTradeNo: "KD-2025|a*b@c_1", Attach: `{"order":"<7>&"}`}
	got, err := SignVirtualPayment(p, keys, "9hAb/NEYUlkaMBEsmFgzig==")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"offerId":"1450000001","buyQuantity":2,"env":1,"currencyType":"CNY","productId":"vip_30","goodsPrice":990,"outTradeNo":"KD-2025|a*b@c_1","attach":"{\"order\":\"<7>&\"}"}`
	if got.Mode != "short_series_goods" || got.SignData != want {
		t.Fatalf("params %+v\nwant signData %s", got, want)
	}
	if got.PaySig != XPayPaySig("sandbox-key", "requestVirtualPayment", []byte(want)) || got.Signature != XPayUserSig("9hAb/NEYUlkaMBEsmFgzig==", []byte(want)) {
		t.Fatalf("signatures %+v", got)
	}
	prod := p
	prod.Env = 0
	if g, _ := SignVirtualPayment(prod, keys, "k"); g.PaySig != XPayPaySig("prod-key", "requestVirtualPayment", []byte(g.SignData)) {
		t.Fatal("env 0 is not signed with the production AppKey")
	}
	for name, bad := range map[string]func(*VirtualPayment, *XPayKeys){
		"short outTradeNo":     func(v *VirtualPayment, _ *XPayKeys) { v.OutTradeNo = "1234567" },
		"long outTradeNo":      func(v *VirtualPayment, _ *XPayKeys) { v.OutTradeNo = strings.Repeat("a", 33) },
		"leading _":            func(v *VirtualPayment, _ *XPayKeys) { v.OutTradeNo = "_12345678" },
		"bad character":        func(v *VirtualPayment, _ *XPayKeys) { v.OutTradeNo = "12345678#" },
		"non-ASCII":            func(v *VirtualPayment, _ *XPayKeys) { v.OutTradeNo = "订单12345678" },
		"zero price":           func(v *VirtualPayment, _ *XPayKeys) { v.GoodsPrice = 0 },
		"negative price":       func(v *VirtualPayment, _ *XPayKeys) { v.GoodsPrice = -1 },
		"zero quantity":        func(v *VirtualPayment, _ *XPayKeys) { v.BuyQuantity = 0 },
		"no product":           func(v *VirtualPayment, _ *XPayKeys) { v.ProductID = "" },
		"env 2":                func(v *VirtualPayment, _ *XPayKeys) { v.Env = 2 },
		"no sandbox key":       func(_ *VirtualPayment, k *XPayKeys) { k.SandboxAppKey = "" },
		"no offer":             func(_ *VirtualPayment, k *XPayKeys) { k.OfferID = "" },
		"another offer":        func(v *VirtualPayment, _ *XPayKeys) { v.OfferID = "999" },
		"no session key given": nil,
	} {
		v, k, session := p, keys, "k"
		if bad == nil {
			session = ""
		} else {
			bad(&v, &k)
		}
		_, err := SignVirtualPayment(v, k, session)
		if !errors.Is(err, ErrXPayInvalid) || !IsXPayRefused(err) || IsTransient(err) {
			t.Errorf("%s: %v, want a refused ErrXPayInvalid", name, err)
		}
	}
	if !ValidXPayTradeNo("abcdefgh") || !ValidXPayTradeNo(strings.Repeat("Z", 32)) || !ValidXPayTradeNo("a_______") {
		t.Error("valid outTradeNo refused")
	}
}

func deliverJSON(keys [9]string) string {
	return `{"ToUserName":"gh_1","FromUserName":"oBuyer","CreateTime":1714036504,"MsgType":"event","Event":"xpay_goods_deliver_notify",` +
		`"` + keys[0] + `":"oBuyer","` + keys[1] + `":"KD20250301001","Env":1,` +
		`"` + keys[2] + `":{"` + keys[3] + `":"mch001","` + keys[4] + `":"4200000001","PaidTime":1714036500},` +
		`"` + keys[5] + `":{"` + keys[6] + `":"vip_30","Quantity":2,"` + keys[7] + `":990,"ActualPrice":980,"` + keys[8] + `":"o=7"}}`
}

var wantDeliver = XPayDeliverNotify{OpenID: "oBuyer", OutTradeNo: "KD20250301001", Env: 1, MchOrderNo: "mch001", TransactionID: "4200000001",
	PaidTime: 1714036500, ProductID: "vip_30", Quantity: 2, OrigPrice: 990, ActualPrice: 980, Attach: "o=7"}

func TestDecodeXPayDeliverNotify(t *testing.T) {
	docCase := deliverJSON([9]string{"OpenId", "OutTradeNo", "WeChatPayInfo", "MchOrderNo", "TransactionId", "GoodsInfo", "ProductId", "OrigPrice", "Attach"})
	spCase := deliverJSON([9]string{"openid", "out_trade_no_is_not_this", "WechatPayInfo", "mchorderno", "transactionid", "goodsinfo", "productid", "origprice", "attach"})
	spCase = strings.Replace(spCase, "out_trade_no_is_not_this", "outtradeno", 1)
	xmlMsg := `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oBuyer]]></FromUserName><CreateTime>1714036504</CreateTime>` +
		`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[xpay_goods_deliver_notify]]></Event><OpenId><![CDATA[oBuyer]]></OpenId>` +
		`<OutTradeNo><![CDATA[KD20250301001]]></OutTradeNo><Env>1</Env><WeChatPayInfo><MchOrderNo><![CDATA[mch001]]></MchOrderNo>` +
		`<TransactionId><![CDATA[4200000001]]></TransactionId><PaidTime>1714036500</PaidTime></WeChatPayInfo><GoodsInfo>` +
		`<ProductId><![CDATA[vip_30]]></ProductId><Quantity>2</Quantity><OrigPrice>990</OrigPrice><ActualPrice>980</ActualPrice>` +
		`<Attach><![CDATA[o=7]]></Attach></GoodsInfo></xml>`
	for name, msg := range map[string]string{"documented case": docCase, "lower case": spCase, "XML": xmlMsg} {
		for _, safe := range []bool{false, true} {
			p := openTestPush(t, msg, safe)
			got, err := DecodeXPayDeliverNotify(p)
			if err != nil || got != wantDeliver || p.Encrypted != safe {
				t.Errorf("%s (safe %v): %+v %v", name, safe, got, err)
			}
		}
	}
	p := openTestPush(t, strings.Replace(docCase, "xpay_goods_deliver_notify", "xpay_refund_notify", 1), true)
	if _, err := DecodeXPayDeliverNotify(p); !errors.Is(err, ErrPushMalformed) {
		t.Errorf("another event: %v", err)
	}
	p = openTestPush(t, strings.Replace(docCase, `"OutTradeNo":"KD20250301001"`, `"OutTradeNo":""`, 1), true)
	if _, err := DecodeXPayDeliverNotify(p); !errors.Is(err, ErrPushMalformed) {
		t.Errorf("no OutTradeNo: %v", err)
	}
	p = openTestPush(t, strings.Replace(docCase, `"Quantity":2`, `"Quantity":"two"`, 1), true)
	if _, err := DecodeXPayDeliverNotify(p); !errors.Is(err, ErrPushMalformed) {
		t.Errorf("quantity two: %v", err)
	}
}

func TestDecodeXPayRefundNotify(t *testing.T) {
	want := XPayRefundNotify{WxRefundID: "wxr1", MchRefundID: "RF20250301001", WxOrderID: "wxo1", MchOrderID: "KD20250301001",
		RefundFee: 990, RetCode: 0, RetMsg: "ok", RetryTimes: 1}
	jsonMsg := `{"MsgType":"event","Event":"xpay_refund_notify","CreateTime":"1714036504","wxrefundid":"wxr1","MchRefundId":"RF20250301001",` +
		`"WxOrderId":"wxo1","MCHORDERID":"KD20250301001","RefundFee":"990","RetCode":0,"RetMsg":"ok","RetryTimes":1}`
	xmlMsg := `<xml><MsgType>event</MsgType><Event>xpay_refund_notify</Event><CreateTime>1714036504</CreateTime><WxRefundId>wxr1</WxRefundId>` +
		`<MchRefundId>RF20250301001</MchRefundId><WxOrderId>wxo1</WxOrderId><MchOrderId>KD20250301001</MchOrderId><RefundFee>990</RefundFee>` +
		`<RetCode>0</RetCode><RetMsg>ok</RetMsg><RetryTimes>1</RetryTimes></xml>`
	for name, msg := range map[string]string{"JSON": jsonMsg, "XML": xmlMsg} {
		for _, safe := range []bool{false, true} {
			got, err := DecodeXPayRefundNotify(openTestPush(t, msg, safe))
			if err != nil || got != want {
				t.Errorf("%s (safe %v): %+v %v", name, safe, got, err)
			}
		}
	}
	if _, err := DecodeXPayRefundNotify(openTestPush(t, deliverJSON([9]string{"OpenId", "OutTradeNo", "a", "b", "c", "d", "e", "f", "g"}), false)); !errors.Is(err, ErrPushMalformed) {
		t.Errorf("a delivery push read as a refund: %v", err)
	}
	var ack struct{ ErrCode *int }
	if err := json.Unmarshal(XPayAck(), &ack); err != nil || ack.ErrCode == nil || *ack.ErrCode != 0 || !strings.Contains(string(XPayAck()), `"ErrMsg":"success"`) {
		t.Errorf("ack %s", XPayAck())
	}
}

// openTestPush sends msg through OpenPush as WeChat would, plain or safe.
func openTestPush(t *testing.T, msg string, safe bool) Push {
	t.Helper()
	var q url.Values
	body := []byte(msg)
	if safe {
		var err error
		if q, body, err = SealPush(testPush, body, "1714036504", "42"); err != nil {
			t.Fatal(err)
		}
	} else {
		q = SignPlainPush(testPush, "1714036504", "42")
	}
	p, err := OpenPush(testPush, q, body)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return p
}
