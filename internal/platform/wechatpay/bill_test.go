package wechatpay_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/wechatpay"
)

var chinaTime = time.FixedZone("CST", 8*3600)

func TestTradeBill(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.prepay(t, "KD-BILL-001", 12345)
	e.prepay(t, "KD-BILL-002", 500)
	e.prepay(t, "KD-BILL-003", 700) // never paid: not in the bill
	e.pay(t, "KD-BILL-001")
	e.pay(t, "KD-BILL-002")
	if _, err := e.client.Refund(ctx, wechatpay.RefundRequest{OutTradeNo: "KD-BILL-001", OutRefundNo: "RF-BILL-1", Refund: 2345, Total: 12345}); err != nil {
		t.Fatal(err)
	}
	today := time.Now().In(chinaTime).Format(time.DateOnly)

	for _, compressed := range []bool{false, true} {
		data, err := e.client.TradeBill(ctx, today, compressed)
		if err != nil {
			t.Fatalf("TradeBill(gzip=%v): %v", compressed, err)
		}
		bill, err := wechatpay.ParseTradeBill(data)
		if err != nil {
			t.Fatalf("ParseTradeBill: %v\n%s", err, data)
		}
		if len(bill.Columns) != 27 || bill.Columns[0] != "交易时间" || len(bill.Records) != 3 {
			t.Fatalf("gzip=%v: %d columns, %d records:\n%s", compressed, len(bill.Columns), len(bill.Records), data)
		}
		byNo := map[string]map[string]string{}
		for _, r := range bill.Records {
			byNo[r["商户订单号"]+"/"+r["交易状态"]] = r
		}
		if r := byNo["KD-BILL-001/SUCCESS"]; r["应结订单金额"] != "123.45" || r["商户号"] != testMchID || r["用户标识"] != testOpenID {
			t.Errorf("payment row = %v", r)
		}
		if r := byNo["KD-BILL-001/REFUND"]; r["退款金额"] != "23.45" || r["商户退款单号"] != "RF-BILL-1" {
			t.Errorf("refund row = %v", r)
		}
		if bill.Summary["总交易单数"] != "3" || bill.Summary["应结订单总金额"] != "128.45" || bill.Summary["退款总金额"] != "23.45" {
			t.Errorf("summary = %v", bill.Summary)
		}
		if !strings.HasPrefix(strings.Split(string(data), "\n")[1], "`") {
			t.Errorf("record lines must start with a backquote:\n%s", data)
		}
	}

	for _, compressed := range []bool{false, true} {
		e.sb.CorruptNextBill()
		if _, err := e.client.TradeBill(ctx, today, compressed); !errors.Is(err, wechatpay.ErrBillHash) {
			t.Fatalf("corrupted bill (gzip=%v): err = %v, want ErrBillHash", compressed, err)
		}
	}

	yesterday := time.Now().In(chinaTime).AddDate(0, 0, -1).Format(time.DateOnly)
	if _, err := e.client.TradeBill(ctx, yesterday, false); !wechatpay.HasCode(err, "NO_STATEMENT_EXIST") {
		t.Fatalf("a day without trades: %v", err)
	}
	if _, err := e.client.TradeBill(ctx, "2025/03/01", false); !errors.Is(err, wechatpay.ErrInvalidRequest) {
		t.Fatalf("malformed date: %v", err)
	}
}

func TestParseTradeBill(t *testing.T) {
	t.Parallel()
	data := "\uFEFF交易时间,商品名称,应结订单金额\r\n" +
		"`2025-03-01 10:00:00,`T恤,白色,`1.00\r\n" +
		"总交易单数,应结订单总金额\r\n" +
		"`1,`1.00\r\n"
	bill, err := wechatpay.ParseTradeBill([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(bill.Records) != 1 || bill.Records[0]["商品名称"] != "T恤,白色" || bill.Summary["总交易单数"] != "1" {
		t.Fatalf("bill = %+v", bill)
	}
	for _, bad := range []string{
		"",
		"a,b\r\n`1,`2,`3\r\nx\r\n`1\r\n",
		"a,b\r\n`1,`2\r\n",
		"a,b\r\n`1,`2\r\nx,y\r\n1,2\r\n",
	} {
		if _, err := wechatpay.ParseTradeBill([]byte(bad)); err == nil {
			t.Errorf("ParseTradeBill(%q) accepted", bad)
		}
	}
}
