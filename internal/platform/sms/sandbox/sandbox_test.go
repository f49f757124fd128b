package sandbox

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/sms"
)

var (
	aliyun  = sms.Credentials{Provider: sms.Aliyun, AccessKeyID: AliyunKeyID, AccessSecret: AliyunSecret}
	tencent = sms.Credentials{Provider: sms.Tencent, AccessKeyID: TencentSecretID, AccessSecret: TencentSecretKey, SdkAppID: TencentSdkAppID}
	msg     = sms.Message{Phone: "13800138000", SignName: "开店", Template: "SMS_1", Params: []sms.Param{{Name: "code", Value: "123456"}}}
)

func TestBothProvidersSendAndAreLogged(t *testing.T) {
	sb := New()
	c, ts := sb.Start()
	defer ts.Close()
	for _, cred := range []sms.Credentials{aliyun, tencent} {
		r, err := c.Send(context.Background(), cred, msg)
		if err != nil || r.ID == "" {
			t.Fatalf("%s: %v %+v", cred.Provider, err, r)
		}
		if got := sb.LastCode("13800138000"); got != "123456" {
			t.Fatalf("%s: code %q", cred.Provider, got)
		}
	}
	sent := sb.Sent()
	if len(sent) != 2 || sent[0].Provider != sms.Aliyun || sent[1].Provider != sms.Tencent || sent[1].SignName != "开店" {
		t.Fatalf("log %+v", sent)
	}
}

func TestWrongSecretAndSkewAreRefused(t *testing.T) {
	sb := New()
	c, ts := sb.Start()
	defer ts.Close()
	for _, cred := range []sms.Credentials{aliyun, tencent} {
		bad := cred
		bad.AccessSecret = "wrong"
		_, err := c.Send(context.Background(), bad, msg)
		if sms.ClassOf(err) != sms.Refused {
			t.Fatalf("%s wrong secret: %v", cred.Provider, err)
		}
	}
	c.Now = func() time.Time { return time.Now().Add(20 * time.Minute) }
	for _, cred := range []sms.Credentials{aliyun, tencent} {
		if _, err := c.Send(context.Background(), cred, msg); err == nil {
			t.Fatalf("%s: a skewed clock was accepted", cred.Provider)
		}
	}
	if sb.Refusals() != 4 || len(sb.Sent()) != 0 {
		t.Fatalf("refusals %d sent %d", sb.Refusals(), len(sb.Sent()))
	}
}

// replayer sends every request twice: the second time is a replay.
type replayer struct{ last *http.Response }

func (rp *replayer) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
	}
	for i := range 2 {
		again := r.Clone(r.Context())
		again.Body = io.NopCloser(bytes.NewReader(body))
		resp, err := http.DefaultTransport.RoundTrip(again)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			resp.Body.Close()
		}
		rp.last = resp
	}
	return rp.last, nil
}

func TestAliyunReplayedNonceIsRefused(t *testing.T) {
	sb := New()
	c, ts := sb.Start()
	defer ts.Close()
	c.HTTP = &http.Client{Transport: &replayer{}}
	_, err := c.Send(context.Background(), aliyun, msg)
	var e *sms.Error
	if !asError(err, &e) || e.Code != "SignatureNonceUsed" || len(sb.Sent()) != 1 {
		t.Fatalf("replay: %v, sent %d", err, len(sb.Sent()))
	}
}

func TestFailuresCarryTheProvidersCodesAndClasses(t *testing.T) {
	sb := New()
	c, ts := sb.Start()
	defer ts.Close()
	cases := []struct {
		fail  string
		class sms.Class
		codes [2]string
	}{
		{Throttled, sms.Throttled, [2]string{"isv.BUSINESS_LIMIT_CONTROL", "LimitExceeded.PhoneNumberThirtySecondLimit"}},
		{InvalidNumber, sms.InvalidNumber, [2]string{"isv.MOBILE_NUMBER_ILLEGAL", "InvalidParameterValue.IncorrectPhoneNumber"}},
		{BadTemplate, sms.BadTemplate, [2]string{"isv.SMS_TEMPLATE_ILLEGAL", "FailedOperation.TemplateIncorrectOrUnapproved"}},
		{SystemError, sms.Temporary, [2]string{"isp.SYSTEM_ERROR", "InternalError.Timeout"}},
	}
	for _, tc := range cases {
		for i, cred := range []sms.Credentials{aliyun, tencent} {
			sb.FailNext(tc.fail)
			_, err := c.Send(context.Background(), cred, msg)
			var e *sms.Error
			if !asError(err, &e) || e.Code != tc.codes[i] || e.Class() != tc.class {
				t.Fatalf("%s %s: %v", tc.fail, cred.Provider, err)
			}
		}
	}
	if len(sb.Sent()) != 0 {
		t.Fatal("a failed send was logged")
	}
	// A number the client already knows is wrong never leaves.
	bad := msg
	bad.Phone = "12345"
	if _, err := c.Send(context.Background(), aliyun, bad); sms.ClassOf(err) != sms.InvalidNumber {
		t.Fatalf("bad number: %v", err)
	}
}

func TestLastCodeControl(t *testing.T) {
	sb := New()
	c, ts := sb.Start()
	defer ts.Close()
	if _, err := c.Send(context.Background(), tencent, msg); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(ts.URL+LastCodePath, "application/json", bytes.NewReader([]byte(`{"phone":"13800138000"}`)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if !bytes.Contains(got, []byte(`"code":"123456"`)) {
		t.Fatalf("control answered %s", got)
	}
}
