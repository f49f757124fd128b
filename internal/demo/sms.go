package demo

import (
	"context"

	smssandbox "github.com/kaidian/kaidian/internal/platform/sms/sandbox"
	"github.com/kaidian/kaidian/internal/server"
	"github.com/kaidian/kaidian/internal/smsgate"
)

// SMSSandboxMount is where the demo serves its SMS sandbox (Aliyun's and
// Tencent Cloud's SendSms), and SMSControl its control endpoint.
const (
	SMSSandboxMount = "/sms"
	SMSControl      = SMSSandboxMount + smssandbox.LastCodePath
	DemoPhone       = "13912345678"
)

// ConnectSMS gives the demo shop an Aliyun account at the SMS sandbox and a
// verification-code template (no order templates: the order messages stay
// on the subscription message and the inbox).
func ConnectSMS(ctx context.Context, s *server.Server) error {
	sh, err := s.Shops.ByAppID(ctx, AppID)
	if err != nil {
		return err
	}
	_, err = s.SMS.PutSettings(ctx, sh.ID, smsgate.SettingsInput{Provider: "aliyun", AccessKeyID: smssandbox.AliyunKeyID,
		AccessSecret: smssandbox.AliyunSecret, SignName: "开店演示", Templates: map[string]string{smsgate.KindPhoneCode: "SMS_DEMO_CODE"}})
	return err
}
