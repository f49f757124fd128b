package sms

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"testing"
)

// Aliyun's V3 example in the documentation does not publish the secret
// behind its signature, so the signature is checked against the documented
// steps written out by hand.
func TestAliyunSignatureFollowsTheDocumentedSteps(t *testing.T) {
	h := http.Header{}
	h.Set("host", "ecs.cn-shanghai.aliyuncs.com")
	h.Set("x-acs-action", "RunInstances")
	h.Set("x-acs-version", "2014-05-26")
	h.Set("x-acs-date", "2023-10-26T09:01:01Z")
	h.Set("x-acs-signature-nonce", "d410180a5abf7fe235dd9b74aca91fc0")
	h.Set("x-acs-content-sha256", sh(""))
	q := url.Values{"RegionId": {"cn-shanghai"}, "ImageId": {"win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"}}
	cr := AliyunCanonicalRequest("POST", "/", q, h, aliyunSigned, nil)
	want := "POST\n/\nImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai\n" +
		"host:ecs.cn-shanghai.aliyuncs.com\nx-acs-action:RunInstances\nx-acs-content-sha256:" + sh("") +
		"\nx-acs-date:2023-10-26T09:01:01Z\nx-acs-signature-nonce:d410180a5abf7fe235dd9b74aca91fc0\nx-acs-version:2014-05-26\n\n" +
		"host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n" + sh("")
	if cr != want {
		t.Fatalf("canonical request\n%s\nwant\n%s", cr, want)
	}
	sig := hex.EncodeToString(hm([]byte("YourAccessKeySecret"), "ACS3-HMAC-SHA256\n"+sh(want)))
	if got := AliyunSignature("YourAccessKeySecret", cr); got != sig {
		t.Fatalf("signature %s, want %s", got, sig)
	}
}

func hm(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

func sh(s string) string {
	x := sha256.Sum256([]byte(s))
	return hex.EncodeToString(x[:])
}

// Tencent's published example has a redacted key, so the signature is
// checked against the steps of the documentation written out by hand.
func TestTencentSignatureFollowsTheDocumentedSteps(t *testing.T) {
	body := `{"PhoneNumberSet":["+8613800138000"],"SmsSdkAppId":"1400000000","SignName":"开店","TemplateId":"1","TemplateParamSet":["123456"]}`
	const ts = 1551113065 // 2019-02-25 16:44:25 UTC
	canonical := "POST\n/\n\ncontent-type:application/json\nhost:sms.tencentcloudapi.com\n\ncontent-type;host\n" + sh(body)
	sts := "TC3-HMAC-SHA256\n1551113065\n2019-02-25/sms/tc3_request\n" + sh(canonical)
	key := hm(hm(hm([]byte("TC3secret-key"), "2019-02-25"), "sms"), "tc3_request")
	want := hex.EncodeToString(hm(key, sts))
	if got := TencentSignature("secret-key", "sms.tencentcloudapi.com", "application/json", ts, []byte(body)); got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
	auth := TencentAuthorization("AKIDexample", "secret-key", "sms.tencentcloudapi.com", "application/json", ts, []byte(body))
	if wantAuth := "TC3-HMAC-SHA256 Credential=AKIDexample/2019-02-25/sms/tc3_request, SignedHeaders=content-type;host, Signature=" + want; auth != wantAuth {
		t.Fatalf("authorization %s", auth)
	}
}

func TestAliyunQueryEncodesByRFC3986(t *testing.T) {
	q := url.Values{"b": {"a b*c~d"}, "A": {"中"}, "TemplateParam": {`{"code":"1"}`}}
	want := "A=%E4%B8%AD&TemplateParam=%7B%22code%22%3A%221%22%7D&b=a%20b%2Ac~d"
	if got := AliyunQuery(q); got != want {
		t.Fatalf("got %s want %s", got, want)
	}
}

func TestValidPhone(t *testing.T) {
	for p, ok := range map[string]bool{"13800138000": true, "19912345678": true, "12800138000": false, "1380013800": false,
		"138001380000": false, "+8613800138000": false, "１3800138000": false, "": false} {
		if ValidPhone(p) != ok {
			t.Errorf("ValidPhone(%q) = %v", p, !ok)
		}
	}
}
