package server

import (
	"context"
	"fmt"
	"strconv"

	"github.com/kaidian/kaidian/internal/camp"
	"github.com/kaidian/kaidian/internal/content"
	"github.com/kaidian/kaidian/internal/contentsale"
	"github.com/kaidian/kaidian/internal/learning"
	"github.com/kaidian/kaidian/internal/messaging"
	"github.com/kaidian/kaidian/internal/moderation"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/secretbox"
	"github.com/kaidian/kaidian/internal/platform/wechat"
	"github.com/kaidian/kaidian/internal/qa"
)

// wirePaidContent builds the rooms around paid content (issue 13) on the
// content service: camps, learning, questions, and the sale through
// WeChat virtual payment, with their hooks into points, messages and the
// push URL.
func (s *Server) wirePaidContent(box *secretbox.Box) {
	s.Camps = camp.NewService(s.DB, campEnrolments{s.Content}, camp.ModeratorFunc(func(shopID int64, text string) string {
		v, _ := s.Moderation.Check(shopID, text)
		return v
	}))
	s.Learning = learning.NewService(s.DB, learningLessons{s.Content}, s.log)
	s.Learning.OnCourseCompleted(s.Points.CourseCompleted)
	s.QA = qa.NewService(s.DB, qaLessons{s.Content}, lateModerator{s})
	s.ContentSales = contentsale.NewService(s.DB, box, contentOffers{s.Content, s.Camps}, contentRights{s.Content},
		xpayGateway{s.WeChat, shopApps{s.Shops}}, courseConsumption{s.Learning}, s.log)
	s.ContentSales.RegisterJobs(s.Jobs)
	s.Members.OnSessionKey(func(ctx context.Context, shopID, memberID int64, key string) {
		if err := s.ContentSales.SaveSessionKey(ctx, shopID, memberID, key); err != nil {
			s.log.Error("keep session key", "shop", shopID, "member", memberID, "err", err)
		}
	})
	deliver, refund := xpayPushes(s.ContentSales)
	s.Pushes.HandleAck(wechat.XPayDeliverEvent, deliver, string(wechat.XPayAck()))
	s.Pushes.HandleAck(wechat.XPayRefundEvent, refund, string(wechat.XPayAck()))
	s.Content.OnReminder = s.membershipReminder
}

// membershipReminder tells a member their membership ends soon (or ended
// yesterday), once per entitlement and day of the reminder.
func (s *Server) membershipReminder(ctx context.Context, tx *db.Tx, r content.Reminder) error {
	var title string
	if err := tx.QueryRow(ctx, `SELECT name FROM content_plans WHERE shop_id = ? AND id = ?`, r.ShopID, r.TargetID).Scan(&title); err != nil {
		return err
	}
	return s.Messages.Notify(ctx, tx, messaging.Notice{ShopID: r.ShopID, MemberID: r.MemberID, Kind: messaging.MembershipExpiring,
		RefID: r.EntitlementID*100 + int64(r.DaysLeft+1), Vars: map[string]string{"membership.title": title,
			"membership.ends_at": messaging.ChinaMinute(r.EndsAt), "membership.days_left": strconv.Itoa(r.DaysLeft)}})
}

// contentOffers prices content for the sale: courses, packages and plans
// by the content room, camps by the camps room.
type contentOffers struct {
	content *content.Service
	camps   *camp.Service
}

func (a contentOffers) Offer(ctx context.Context, shopID, memberID int64, kind string, id int64) (contentsale.Offer, error) {
	if kind == contentsale.KindCamp {
		title, price, err := a.camps.Offer(ctx, shopID, id)
		return contentsale.Offer{TargetKind: kind, TargetID: id, Title: title, ListFen: price, PriceFen: price}, err
	}
	of, err := a.content.Offer(ctx, shopID, memberID, kind, id)
	return contentsale.Offer(of), err
}

// contentRights is content's entitlement ledger for the sale.
type contentRights struct{ content *content.Service }

func (a contentRights) GrantTx(ctx context.Context, tx *db.Tx, g contentsale.Grant) (bool, error) {
	_, created, err := a.content.GrantTx(ctx, tx, content.Grant(g))
	return created, err
}

func (a contentRights) RevokeTx(ctx context.Context, tx *db.Tx, shopID int64, ref, reason, by string) error {
	_, err := a.content.RevokeTx(ctx, tx, shopID, ref, reason, by)
	return err
}

// courseConsumption is how much of a course a member has learned (a
// refund's limit); packages and plans count as unused.
type courseConsumption struct{ learning *learning.Service }

func (c courseConsumption) Consumed(ctx context.Context, shopID, memberID int64, kind string, id int64) (int, error) {
	if kind != contentsale.KindCourse {
		return 0, nil
	}
	p, err := c.learning.CourseProgress(ctx, shopID, memberID, id)
	return p.Percent, err
}

// learningLessons is content's lessons for learning.
type learningLessons struct{ content *content.Service }

func (a learningLessons) Lesson(ctx context.Context, shopID, lessonID int64) (learning.LessonInfo, error) {
	l, err := a.content.Lesson(ctx, shopID, lessonID)
	return learning.LessonInfo(l), err
}

func (a learningLessons) CourseLessons(ctx context.Context, shopID, courseID int64) ([]learning.LessonInfo, error) {
	list, err := a.content.CourseLessons(ctx, shopID, courseID)
	if errs.Is(err, "course_not_found") {
		return nil, nil
	}
	out := make([]learning.LessonInfo, len(list))
	for i, l := range list {
		out[i] = learning.LessonInfo(l)
	}
	return out, err
}

func (a learningLessons) CourseTitle(ctx context.Context, shopID, courseID int64) (string, error) {
	return a.content.CourseTitle(ctx, shopID, courseID)
}

func (a learningLessons) CanAccess(ctx context.Context, shopID, memberID, lessonID int64) (learning.Access, error) {
	acc, err := a.content.CanAccess(ctx, shopID, memberID, lessonID)
	return learning.Access{Allowed: acc.Allowed, InGrace: acc.InGrace, EndsAt: acc.EndsAt, Via: acc.Via}, err
}

// qaLessons is content's lessons for questions and comments.
type qaLessons struct{ content *content.Service }

func (a qaLessons) Lesson(ctx context.Context, shopID, lessonID int64) (qa.Lesson, error) {
	l, err := a.content.Lesson(ctx, shopID, lessonID)
	return qa.Lesson{ID: l.ID, ShopID: l.ShopID, CourseID: l.CourseID}, err
}

func (a qaLessons) CanAccess(ctx context.Context, shopID, memberID, lessonID int64) (bool, error) {
	acc, err := a.content.CanAccess(ctx, shopID, memberID, lessonID)
	return acc.Allowed, err
}

// campEnrolments asks content whether a member holds a paid camp.
type campEnrolments struct{ content *content.Service }

func (a campEnrolments) HoldsTarget(ctx context.Context, shopID, memberID int64, kind string, id int64) (bool, error) {
	acc, err := a.content.HoldsTarget(ctx, shopID, memberID, kind, id)
	return acc.Allowed, err
}

// xpayGateway is contentsale's WeChat virtual payment: the mini-program
// client with the shop's app credentials.
type xpayGateway struct {
	wx   *wechat.Client
	apps shopApps
}

func xpayKeys(k contentsale.Keys) wechat.XPayKeys {
	return wechat.XPayKeys{OfferID: k.OfferID, AppKey: k.AppKey, SandboxAppKey: k.SandboxAppKey}
}

func (g xpayGateway) Sign(p contentsale.PayRequest, k contentsale.Keys, sessionKey string) (contentsale.PayParams, error) {
	out, err := wechat.SignVirtualPayment(wechat.VirtualPayment{OfferID: p.OfferID, Env: p.Env, ProductID: p.ProductID,
		GoodsPrice: p.GoodsPrice, BuyQuantity: p.Quantity, OutTradeNo: p.OutTradeNo, Attach: p.Attach}, xpayKeys(k), sessionKey)
	return contentsale.PayParams{Mode: out.Mode, SignData: out.SignData, PaySig: out.PaySig, Signature: out.Signature}, err
}

// Query asks for an order; WeChat's definite refusal (no such order for
// this user) is an order never paid, anything else stays an error.
func (g xpayGateway) Query(ctx context.Context, shopID int64, k contentsale.Keys, env int, openid, outTradeNo string) (contentsale.PayOrder, error) {
	app, err := g.apps.App(ctx, shopID)
	if err != nil {
		return contentsale.PayOrder{}, err
	}
	o, err := g.wx.XPayQueryOrder(ctx, app, xpayKeys(k), env, openid, outTradeNo)
	if wechat.IsXPayRefused(err) {
		return contentsale.PayOrder{}, nil
	}
	if err != nil {
		return contentsale.PayOrder{}, err
	}
	return contentsale.PayOrder{Found: true, Status: o.Status, PaidFee: o.PaidFee, WxOrderID: o.WxOrderID}, nil
}

func (g xpayGateway) Refund(ctx context.Context, shopID int64, k contentsale.Keys, r contentsale.RefundRequest) error {
	app, err := g.apps.App(ctx, shopID)
	if err != nil {
		return err
	}
	err = g.wx.XPayRefundOrder(ctx, app, xpayKeys(k), wechat.XPayRefund{OpenID: r.OpenID, OrderID: r.OutTradeNo, RefundOrderID: r.RefundNo,
		LeftFee: r.LeftFee, RefundFee: r.RefundFee, Reason: r.Reason, ReqFrom: r.ReqFrom, Env: r.Env})
	if wechat.IsXPayRefused(err) {
		return fmt.Errorf("%w: %v", contentsale.ErrRefused, err)
	}
	return err
}

func (g xpayGateway) Provided(ctx context.Context, shopID int64, k contentsale.Keys, env int, outTradeNo string) error {
	app, err := g.apps.App(ctx, shopID)
	if err != nil {
		return err
	}
	return g.wx.XPayNotifyProvideGoods(ctx, app, xpayKeys(k), env, outTradeNo)
}

// xpayPushes hands virtual payment's pushes to the sale room.
func xpayPushes(sale *contentsale.Service) (deliver, refund func(ctx context.Context, shopID int64, p wechat.Push) error) {
	deliver = func(ctx context.Context, shopID int64, p wechat.Push) error {
		n, err := wechat.DecodeXPayDeliverNotify(p)
		if err != nil {
			return err
		}
		return sale.Delivered(ctx, shopID, contentsale.DeliverNotice{OpenID: n.OpenID, OutTradeNo: n.OutTradeNo, Env: n.Env,
			ProductID: n.ProductID, ActualPrice: n.ActualPrice})
	}
	refund = func(ctx context.Context, shopID int64, p wechat.Push) error {
		n, err := wechat.DecodeXPayRefundNotify(p)
		if err != nil {
			return err
		}
		return sale.RefundNotified(ctx, shopID, contentsale.RefundNotice{MchRefundID: n.MchRefundID, MchOrderID: n.MchOrderID,
			RetCode: n.RetCode, RetMsg: n.RetMsg})
	}
	return deliver, refund
}

// lateModerator is the moderation service, built after the rooms that use
// it.
type lateModerator struct{ s *Server }

func (m lateModerator) Submit(ctx context.Context, shopID, memberID int64, in moderation.NewItem) (moderation.Item, error) {
	return m.s.Moderation.Submit(ctx, shopID, memberID, in)
}
