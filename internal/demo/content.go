package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/camp"
	"github.com/kaidian/kaidian/internal/content"
	"github.com/kaidian/kaidian/internal/contentsale"
	"github.com/kaidian/kaidian/internal/platform/wechat"
	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
	"github.com/kaidian/kaidian/internal/server"
	"github.com/kaidian/kaidian/internal/shop"
)

// The demo shop's virtual payment (虚拟支付) at the WeChat sandbox and its
// message-push settings (the sandbox pushes the delivery of each payment).
const (
	XPayOfferID    = "1450000001"
	XPaySandboxKey = "demo-xpay-sandbox-app-key"
	PushToken      = "demoPushToken1"
	PushAESKey     = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	CoursePrice    = 9900  // 零基础写作课
	PlanPrice      = 19900 // 年度会员
)

// seedContent gives the demo shop paid content: a course of a free article
// and a paid audio lesson, a yearly membership of every course, a free
// 7-day camp starting today, virtual payment (sandbox) with an item at
// each price, and the push settings.
func seedContent(ctx context.Context, s *server.Server, shopID int64) error {
	token, key := PushToken, PushAESKey
	if _, err := s.Shops.Update(ctx, shopID, shop.UpdateInput{Secrets: &shop.SecretsInput{PushToken: &token, PushAESKey: &key}}); err != nil {
		return err
	}
	c, err := s.Content.CreateCourse(ctx, shopID, content.CourseInput{Kind: "course", Title: "零基础写作课", Subtitle: "21 天写出第一篇好文章",
		Intro: "<p>从选题到开头，一课一练。</p>", PriceFen: CoursePrice, ForSale: true, Status: "published"})
	if err != nil {
		return err
	}
	lessons := []content.LessonInput{
		{Kind: "article", Title: "第 1 课 为什么要写作", Body: "<p>写作是整理思考的方式。</p>", Free: true, Status: "published"},
		{Kind: "audio", Title: "第 2 课 如何写一个好开头", MediaURL: "https://vod.example.com/kaidian-demo/lesson-2.mp3",
			DurationSec: 600, PreviewSec: 60, Status: "published"},
	}
	for _, l := range lessons {
		if _, err := s.Content.CreateLesson(ctx, shopID, c.ID, l); err != nil {
			return err
		}
	}
	if _, err := s.Content.SavePlan(ctx, shopID, 0, content.PlanInput{Name: "年度会员", Intro: "全部课程畅学一年", Period: "year",
		PriceFen: PlanPrice, CoversAll: true, ForSale: true, Status: "published"}); err != nil {
		return err
	}
	tasks := make([]camp.TaskInput, 7)
	for i := range tasks {
		tasks[i] = camp.TaskInput{Title: fmt.Sprintf("第 %d 天：写 300 字", i+1)}
	}
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	if _, err := s.Camps.Create(ctx, shopID, camp.Input{Title: "7 天写作训练营", Intro: "每天一个小练习", StartDate: today,
		Makeups: 1, Status: "open", Tasks: tasks}); err != nil {
		return err
	}
	if _, err := s.ContentSales.SaveSettings(ctx, shopID, contentsale.Settings{OfferID: XPayOfferID, SandboxAppKey: XPaySandboxKey,
		Env: 1, RefundDays: 3, RefundMaxConsumed: 50}); err != nil {
		return err
	}
	for _, price := range []int64{CoursePrice, PlanPrice} {
		if _, err := s.ContentSales.AddItem(ctx, shopID, contentsale.Item{ItemID: itemOf(price), PriceFen: price, Name: "¥" + yuan(price) + " 档"}); err != nil {
			return err
		}
	}
	return nil
}

func itemOf(price int64) string { return fmt.Sprintf("tier_%d", price) }

// ConnectXPay gives the WeChat sandbox the demo's virtual payment: its keys
// and items, where to push (the demo shop's push URL, safe mode), and a
// loop that retries unanswered pushes and settles refunds every second.
func ConnectXPay(ctx context.Context, s *server.Server, sb *sandbox.Sandbox, base string) error {
	sh, err := s.Shops.ByAppID(ctx, AppID)
	if err != nil {
		return err
	}
	sb.SetXPayKeys(AppID, wechat.XPayKeys{OfferID: XPayOfferID, SandboxAppKey: XPaySandboxKey})
	for _, price := range []int64{CoursePrice, PlanPrice} {
		if err := sb.AddXPayItem(AppID, itemOf(price), price); err != nil {
			return err
		}
	}
	sb.SetPushTarget(AppID, sandbox.PushTarget{URL: fmt.Sprintf("%s/webhooks/wechat/%d/push", strings.TrimRight(base, "/"), sh.ID),
		Token: PushToken, EncodingAESKey: PushAESKey})
	go sb.RunXPay(ctx, AppID, time.Second)
	return nil
}
