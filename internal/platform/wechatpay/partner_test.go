package wechatpay_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/wechatpay"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

const (
	subMchID  = "1600000001"
	subAppID  = "wx0000000000000abc"
	subOpenID = "oSub_buyer_of_the_shop_mini_program"
)

// partner returns a client acting for sub-merchant sub with the
// environment's merchant as the service provider; subApp "" means the
// buyer pays in the provider's mini program.
func (e *env) partner(sub, subApp string) *wechatpay.Client {
	m := e.merchant
	m.SubMchID, m.SubAppID = sub, subApp
	return wechatpay.NewClient(e.base, m, e.verifier, nil)
}

// TestPartnerMode runs a sub-merchant's order through the partner API:
// prepay with sub_appid and sub_openid, wx.requestPayment signed with the
// provider's key for the sub-merchant's mini program, the notification
// (provider's APIv3 key, sp_*/sub_* fields), query, refund with sub_mchid,
// and the sandbox's checks of who may do what.
func TestPartnerMode(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.sb.AddSubMerchant(testMchID, subMchID, subAppID); err != nil {
		t.Fatal(err)
	}
	e.sb.UseOpenIDs(func(appid, openid string) bool {
		return appid == subAppID && openid == subOpenID || appid == testAppID && openid == testOpenID
	})
	c := e.partner(subMchID, subAppID)
	req := wechatpay.PrepayRequest{Description: "特约商户的商品", OutTradeNo: "SUB0000001", NotifyURL: e.notify.url(), Total: 500, OpenID: subOpenID}
	prepayID, err := c.Prepay(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	params, err := c.RequestPayment(prepayID)
	if err != nil {
		t.Fatal(err)
	}
	sp := paysandbox.PaymentParams{TimeStamp: params.TimeStamp, NonceStr: params.NonceStr, Package: params.Package, SignType: params.SignType, PaySign: params.PaySign}
	if _, err := e.sb.PayWithParams(ctx, testAppID, sp); !errors.Is(err, paysandbox.ErrBadPaySign) {
		t.Fatalf("paid in the provider's mini program: %v", err)
	}
	if d, err := e.sb.PayWithParams(ctx, subAppID, sp); err != nil || !d.Delivered {
		t.Fatalf("pay: %v %+v", err, d)
	}
	n := e.notify.last(t)
	tx, err := n.n.Transaction()
	if err != nil {
		t.Fatal(err)
	}
	if tx.SpMchID != testMchID || tx.SpAppID != testAppID || tx.SubMchID != subMchID || tx.SubAppID != subAppID ||
		tx.Payer.SubOpenID != subOpenID || tx.MchID != "" || tx.TradeState != "SUCCESS" {
		t.Fatalf("partner notification: %+v", tx)
	}
	if !c.Owns(tx) || e.client.Owns(tx) || e.partner("1600000002", subAppID).Owns(tx) || e.partner(subMchID, "").Owns(tx) {
		t.Fatal("Owns accepts another merchant's order or refuses its own")
	}
	q, err := c.QueryOrder(ctx, req.OutTradeNo)
	if err != nil || q.TransactionID != tx.TransactionID || !c.Owns(q) {
		t.Fatalf("partner query: %+v %v", q, err)
	}
	if _, err := e.client.QueryOrder(ctx, req.OutTradeNo); !wechatpay.IsNotFound(err) {
		t.Fatalf("the provider's direct query found the sub-merchant's order: %v", err)
	}
	rf, err := c.Refund(ctx, wechatpay.RefundRequest{OutTradeNo: req.OutTradeNo, OutRefundNo: "SUBR1", Refund: 200, Total: 500, NotifyURL: e.notify.url()})
	if err != nil || rf.Status != wechatpay.RefundStatusProcessing {
		t.Fatalf("partner refund: %+v %v", rf, err)
	}
	if got, err := c.QueryRefund(ctx, "SUBR1"); err != nil || got.RefundID != rf.RefundID {
		t.Fatalf("partner refund query: %+v %v", got, err)
	}
	if _, err := e.sb.CompleteRefund(ctx, subMchID, "SUBR1", paysandbox.RefundSuccess); err != nil {
		t.Fatal(err)
	}
	rn, err := e.notify.last(t).n.RefundNotice()
	if err != nil || rn.SpMchID != testMchID || rn.SubMchID != subMchID || !c.OwnsRefund(rn) || e.client.OwnsRefund(rn) {
		t.Fatalf("partner refund notification: %+v %v", rn, err)
	}

	// Closing names sp_mchid and sub_mchid.
	req.OutTradeNo = "SUB0000002"
	if _, err := c.Prepay(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseOrder(ctx, req.OutTradeNo); err != nil {
		t.Fatal(err)
	}
	if q, err := c.QueryOrder(ctx, req.OutTradeNo); err != nil || q.TradeState != wechatpay.TradeStateClosed {
		t.Fatalf("closed partner order: %+v %v", q, err)
	}

	// In the provider's own mini program the payer is sp_openid.
	spc := e.partner(subMchID, "")
	req.OutTradeNo, req.OpenID = "SUB0000003", testOpenID
	if _, err := spc.Prepay(ctx, req); err != nil {
		t.Fatalf("prepay with sp_openid: %v", err)
	}

	for name, bad := range map[string]struct {
		c      *wechatpay.Client
		openid string
		code   string
	}{
		"not the provider's sub-merchant": {e.partner("1600000009", ""), testOpenID, "NO_AUTH"},
		"sub_appid not bound":             {e.partner(subMchID, "wx0000000000000def"), subOpenID, "APPID_MCHID_NOT_MATCH"},
		"openid of another mini program":  {c, testOpenID, "PARAM_ERROR"},
		"sub openid under the sp_appid":   {spc, subOpenID, "PARAM_ERROR"},
	} {
		req.OutTradeNo, req.OpenID = "SUBBAD0001", bad.openid
		if _, err := bad.c.Prepay(ctx, req); !wechatpay.HasCode(err, bad.code) {
			t.Errorf("%s: %v, want %s", name, err, bad.code)
		}
	}
}
