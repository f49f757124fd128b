package messaging

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// kindSpec is what a message kind says and where its values come from.
// An order kind renders from the order its ref_id names, read when it is
// sent; any other kind from the values its trigger stored with it (Vars).
type kindSpec struct {
	title string
	order bool
	// titleVar and pageVar name values that, when given, stand for the
	// title and the inbox's page (a campaign's own).
	titleVar, pageVar string
	vars              []string // the sources a template of the kind may use
	body              func(v map[string]string) string
	page              string // the inbox's page; {ref_id} is replaced
	sample            map[string]string
}

var orderSources = []string{"order.no", "order.title", "order.amount", "order.paid_at", "order.shipped_at", "order.created_at",
	"order.carrier", "order.tracking_no", "order.quantity", "order.receiver", "order.status", "order.refunded"}

var kindSpecs = map[string]kindSpec{
	OrderPaid: {title: "订单支付成功", order: true, vars: orderSources, page: "pages/order/detail?id={ref_id}",
		body: func(v map[string]string) string {
			return fmt.Sprintf("您的订单 %s（%s）已支付 %s", v["order.no"], v["order.title"], v["order.amount"])
		}},
	OrderShipped: {title: "订单已发货", order: true, vars: orderSources, page: "pages/order/detail?id={ref_id}",
		body: func(v map[string]string) string {
			b := fmt.Sprintf("您的订单 %s（%s）已发货", v["order.no"], v["order.title"])
			if v["order.tracking_no"] != "" {
				b += "，" + v["order.carrier"] + " " + v["order.tracking_no"]
			}
			return b
		}},
	OrderRefunded: {title: "退款成功", order: true, vars: orderSources, page: "pages/order/detail?id={ref_id}",
		body: func(v map[string]string) string {
			return fmt.Sprintf("您的订单 %s（%s）已退款 %s，原路退回", v["order.no"], v["order.title"], v["order.refunded"])
		}},
	MembershipExpiring: {title: "会员即将到期", vars: []string{"membership.title", "membership.ends_at", "membership.days_left"},
		page: "pages/member/plans",
		body: func(v map[string]string) string {
			if d, _ := strconv.Atoi(v["membership.days_left"]); d < 0 {
				return fmt.Sprintf("您的%s已于 %s 到期，续费后立即恢复", v["membership.title"], v["membership.ends_at"])
			}
			return fmt.Sprintf("您的%s将于 %s 到期（还剩 %s 天），记得续费", v["membership.title"], v["membership.ends_at"], v["membership.days_left"])
		},
		sample: map[string]string{"membership.title": "年度会员", "membership.ends_at": "2026-12-14 23:59", "membership.days_left": "7"}},
	LevelFalling: {title: "会员等级变更提醒", vars: []string{"level.name", "level.new_name", "level.falls_at"}, page: "pages/member/level",
		body: func(v map[string]string) string {
			to := v["level.new_name"]
			if to == "" {
				to = "普通会员"
			}
			return fmt.Sprintf("您的成长值已不足以保持「%s」，若 %s 前未补足，等级将调整为「%s」", v["level.name"], v["level.falls_at"], to)
		},
		sample: map[string]string{"level.name": "黄金会员", "level.new_name": "白银会员", "level.falls_at": "2027-01-06 10:00"}},
	Campaign: {title: "活动通知", titleVar: "campaign.title", pageVar: "campaign.page", page: "pages/index/index",
		vars:   []string{"campaign.title", "campaign.body", "campaign.page"},
		body:   func(v map[string]string) string { return v["campaign.body"] },
		sample: map[string]string{"campaign.title": "双12 会员日", "campaign.body": "全场满 199 减 30，今晚 24 点结束", "campaign.page": "pages/index/index"}},
	PointsExpiring: {title: "积分即将过期", vars: []string{"points.amount", "points.expires_at"}, page: "pages/member/points",
		body: func(v map[string]string) string {
			return fmt.Sprintf("您有 %s 积分将于 %s 过期，快去积分商城使用吧", v["points.amount"], v["points.expires_at"])
		},
		sample: map[string]string{"points.amount": "1200", "points.expires_at": "2026-12-31 23:59"}},
}

func (k kindSpec) allows(src string) bool { return slices.Contains(k.vars, src) }

// orderVars are an order's values by source name.
func orderVars(o order.Order) map[string]string {
	return map[string]string{
		"order.no": o.OrderNo, "order.title": orderTitle(o), "order.amount": yuan(paid(o)), "order.paid_at": chinaTime(o.PaidAt),
		"order.shipped_at": chinaTime(o.ShippedAt), "order.created_at": chinaTime(&o.CreatedAt), "order.carrier": o.Carrier,
		"order.tracking_no": o.TrackingNo, "order.quantity": strconv.FormatInt(quantity(o), 10), "order.receiver": o.Address.Name,
		"order.status": statusPhrases[o.Status], "order.refunded": yuan(o.RefundedAmount),
	}
}

// inboxText is what the inbox shows for a message of kind with values v.
func inboxText(kind string, v map[string]string) (title, body string) {
	spec := kindSpecs[kind]
	title = spec.title
	if t := v[spec.titleVar]; spec.titleVar != "" && t != "" {
		title = t
	}
	return title, spec.body(v)
}

// inboxPage is the page an inbox message of kind opens.
func inboxPage(kind string, v map[string]string, refID int64) string {
	spec := kindSpecs[kind]
	if p := v[spec.pageVar]; spec.pageVar != "" && p != "" {
		return p
	}
	return pagePath(spec.page, refID)
}

// Notice is a message another room asks for, with its values: the kind
// (not an order kind), what it is about (ref_id: one message per kind,
// ref_id and member) and the values its template may use (the kind's
// sources, e.g. membership.title).
type Notice struct {
	ShopID, MemberID int64
	Kind             string
	RefID            int64
	Vars             map[string]string
}

// Notify queues a notice in the caller's transaction (its trigger's): the
// message row and its send job. A notice already queued for the same
// kind, ref_id and member is left alone.
func (s *Service) Notify(ctx context.Context, tx *db.Tx, n Notice) error {
	spec, ok := kindSpecs[n.Kind]
	if !ok || spec.order {
		return errs.E(errs.Internal, "message_kind_invalid", "messaging: "+n.Kind+" is not a notice kind")
	}
	for k := range n.Vars {
		if !spec.allows(k) {
			return errs.E(errs.Internal, "message_var_invalid", "messaging: "+n.Kind+" has no value "+k)
		}
	}
	vars, err := json.Marshal(n.Vars)
	if err != nil {
		return err
	}
	return s.queueVars(ctx, tx, n.ShopID, n.MemberID, n.Kind, n.RefID, string(vars))
}

// Refunded is the order.OnRefunded hook: the "refunded" message for the
// order's first successful refund, in the refund's transaction.
func (s *Service) Refunded(ctx context.Context, tx *db.Tx, r order.RefundedOrder) error {
	return s.queue(ctx, tx, r.ShopID, r.MemberID, OrderRefunded, r.OrderID)
}

// ChinaMinute formats t as notices show times (China time, to the minute).
func ChinaMinute(t time.Time) string { return chinaTime(&t) }
