package server

import (
	"context"
	"fmt"

	"github.com/kaidian/kaidian/internal/contentsale"
	"github.com/kaidian/kaidian/internal/platform/wechat"
)

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
