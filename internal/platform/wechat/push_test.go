package wechat

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
)

// The signature vectors of WeChat's message-push documentation.
func TestPushSignatureMatchesTheDocumentation(t *testing.T) {
	for _, c := range []struct{ ts, nonce, want string }{
		{"1714036504", "1514711492", "f464b24fc39322e44b38aa78f5edd27bd1441696"},
		{"1714037059", "486452656", "899cf89e464efb63f54ddac96b0a0a235f53aa78"},
	} {
		if got := pushSignature("AAAAA", c.ts, c.nonce); got != c.want {
			t.Errorf("signature(%s, %s) = %s, want %s", c.ts, c.nonce, got, c.want)
		}
		q := url.Values{"signature": {c.want}, "timestamp": {c.ts}, "nonce": {c.nonce}, "echostr": {"echo-1"}}
		if echo, err := VerifyPushURL(PushConfig{Token: "AAAAA"}, q); err != nil || echo != "echo-1" {
			t.Errorf("URL check: %q %v", echo, err)
		}
		if _, err := VerifyPushURL(PushConfig{Token: "BBBBB"}, q); !errors.Is(err, ErrPushSignature) {
			t.Errorf("URL check with another token: %v", err)
		}
	}
}

var testPush = PushConfig{AppID: "wx1234567890abcdef", Token: "push-token", EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}

func TestSafeModePushRoundTripsAndRefusesForgeries(t *testing.T) {
	msg := `{"ToUserName":"gh_1","FromUserName":"o_buyer","CreateTime":1714036504,"MsgType":"event","Event":"trade_manage_order_settlement","transaction_id":"42000001","settlement_time":1714036999}`
	q, body, err := SealPush(testPush, []byte(msg), "1714036504", "77")
	if err != nil {
		t.Fatal(err)
	}
	p, err := OpenPush(testPush, q, body)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Encrypted || p.Event != "trade_manage_order_settlement" || p.MsgType != "event" || p.CreateTime != 1714036504 || p.FromUserName != "o_buyer" {
		t.Fatalf("opened %+v", p)
	}
	var ev struct {
		TransactionID  string      `json:"transaction_id"`
		SettlementTime json.Number `json:"settlement_time"`
	}
	if err := p.Decode(&ev); err != nil || ev.TransactionID != "42000001" || ev.SettlementTime != "1714036999" {
		t.Fatalf("decoded %+v %v", ev, err)
	}

	// The body changed after signing, a signature by another token, a
	// message sealed for another mini program, a broken ciphertext.
	tampered := strings.Replace(string(body), `"Encrypt":"`, `"Encrypt":"A`, 1)
	if _, err := OpenPush(testPush, q, []byte(tampered)); !errors.Is(err, ErrPushSignature) {
		t.Errorf("tampered body: %v", err)
	}
	other := testPush
	other.Token = "not-the-token"
	if _, err := OpenPush(other, q, body); !errors.Is(err, ErrPushSignature) {
		t.Errorf("other token: %v", err)
	}
	foreign := testPush
	foreign.AppID = "wxffffffffffffffff"
	fq, fbody, _ := SealPush(foreign, []byte(msg), "1714036504", "78")
	if _, err := OpenPush(testPush, fq, fbody); !errors.Is(err, ErrPushSignature) {
		t.Errorf("a push sealed for another mini program: %v", err)
	}
	bad := `{"Encrypt":"bm90LWEtYmxvY2s="}`
	bq := url.Values{"timestamp": {"1"}, "nonce": {"2"}, "encrypt_type": {"aes"}, "msg_signature": {pushSignature(testPush.Token, "1", "2", "bm90LWEtYmxvY2s=")}}
	if _, err := OpenPush(testPush, bq, []byte(bad)); !errors.Is(err, ErrPushMalformed) {
		t.Errorf("a ciphertext that is not whole blocks: %v", err)
	}
}

func TestPlainModePushAndXML(t *testing.T) {
	q := SignPlainPush(testPush, "1714036504", "99")
	xmlMsg := `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o_buyer]]></FromUserName>
		<CreateTime>1714036504</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_popup_event]]></Event>
		<SubscribeMsgPopupEvent><List><TemplateId><![CDATA[tpl-a]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString></List>
		<List><TemplateId><![CDATA[tpl-b]]></TemplateId><SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString></List></SubscribeMsgPopupEvent></xml>`
	p, err := OpenPush(testPush, q, []byte(xmlMsg))
	if err != nil {
		t.Fatal(err)
	}
	if p.Encrypted || p.Event != "subscribe_msg_popup_event" || p.CreateTime != 1714036504 {
		t.Fatalf("opened %+v", p)
	}
	type choice struct{ TemplateID, SubscribeStatusString string }
	var ev struct {
		SubscribeMsgPopupEvent struct{ List OneOrMany[choice] }
	}
	if err := p.Decode(&ev); err != nil || len(ev.SubscribeMsgPopupEvent.List) != 2 || ev.SubscribeMsgPopupEvent.List[1].SubscribeStatusString != "reject" {
		t.Fatalf("decoded %+v %v (%s)", ev, err, p.Message)
	}
	// JSON sends one item as an object, and CreateTime as a string.
	one := `{"MsgType":"event","Event":"subscribe_msg_popup_event","CreateTime":"1714036505","List":{"TemplateId":"tpl-a","SubscribeStatusString":"accept"}}`
	p, err = OpenPush(testPush, q, []byte(one))
	var single struct{ List OneOrMany[choice] }
	if err != nil || p.CreateTime != 1714036505 || p.Decode(&single) != nil || len(single.List) != 1 || single.List[0].TemplateID != "tpl-a" {
		t.Fatalf("one item: %+v %+v %v", p, single, err)
	}
	// A plain push needs the token's signature; garbage is malformed.
	if _, err := OpenPush(testPush, SignPlainPush(PushConfig{Token: "x"}, "1", "2"), []byte(one)); !errors.Is(err, ErrPushSignature) {
		t.Errorf("plain push signed by another token: %v", err)
	}
	if _, err := OpenPush(testPush, q, []byte("not a push")); !errors.Is(err, ErrPushMalformed) {
		t.Errorf("garbage: %v", err)
	}
}
