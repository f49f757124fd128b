package paysandbox

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

const (
	billHost = "https://api.mch.weixin.qq.com" // download_url host, as WeChat writes it
	billTTL  = 30 * time.Second
)

var (
	billColumns = []string{"交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号",
		"用户标识", "交易类型", "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "微信退款单号",
		"商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态", "商品名称", "商户数据包", "手续费",
		"费率", "订单金额", "申请退款金额", "费率备注"}
	billSummaryColumns = []string{"总交易单数", "应结订单总金额", "退款总金额", "充值券退款总金额", "手续费总金额",
		"订单总金额", "申请退款总金额"}
)

type billFile struct {
	mchid   string
	data    []byte
	expires time.Time
}

// CorruptNextBill makes the next trade bill's file differ from the
// hash_value announced for it. Calls add up.
func (s *Sandbox) CorruptNextBill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.corruptBills++
}

// tradeBill serves GET /v3/bill/tradebill. Unlike WeChat (bills from
// about 10:00 the next day) it also serves today's bill so far.
func (s *Sandbox) tradeBill(c *apiCall) result {
	q := c.r.URL.Query()
	date, err := time.ParseInLocation(time.DateOnly, q.Get("bill_date"), chinaTime)
	billType, tar := q.Get("bill_type"), q.Get("tar_type")
	switch {
	case err != nil:
		return apiError(http.StatusBadRequest, "PARAM_ERROR", "bill_date 应为 YYYY-MM-DD")
	case !slices.Contains([]string{"", "ALL", "SUCCESS", "REFUND"}, billType):
		return apiError(http.StatusBadRequest, "PARAM_ERROR", "bill_type 应为 ALL、SUCCESS 或 REFUND")
	case tar != "" && tar != "GZIP":
		return apiError(http.StatusBadRequest, "PARAM_ERROR", "tar_type 只支持 GZIP")
	case date.After(s.now()):
		return apiError(http.StatusBadRequest, "INVALID_REQUEST", "bill_date 不能晚于今天")
	}
	sub := q.Get("sub_mchid")
	if res, ok := s.checkSubMerchant(c, sub); !ok {
		return res
	}
	csv, ok := s.billCSV(c.mch, sub, date, billType)
	if !ok {
		return apiError(http.StatusBadRequest, "NO_STATEMENT_EXIST", "账单文件不存在")
	}
	sum := sha1.Sum(csv)
	token := s.storeBill(c.mch.mchid, csv, tar == "GZIP")
	return result{http.StatusOK, reply{
		"hash_type": "SHA1", "hash_value": hex.EncodeToString(sum[:]),
		"download_url": billHost + "/v3/billdownload/file?token=" + url.QueryEscape(token),
	}}
}

// storeBill keeps a bill file for billTTL (spoiled if CorruptNextBill
// asked) and returns its download token.
func (s *Sandbox) storeBill(mchid string, csv []byte, compress bool) string {
	now := s.now()
	for token, b := range s.bills {
		if now.After(b.expires) {
			delete(s.bills, token)
		}
	}
	data := csv
	if s.corruptBills > 0 {
		s.corruptBills--
		data = bytes.Replace(csv, []byte("`"), []byte("`9"), 1)
	}
	if compress {
		data = gzipBytes(data)
	}
	token := randomString(40)
	s.bills[token] = &billFile{mchid: mchid, data: data, expires: now.Add(billTTL)}
	return token
}

func gzipBytes(data []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

// serveBillFile serves GET /v3/billdownload/file: the request must be
// signed by the merchant that asked for the bill; the file is not signed.
func (s *Sandbox) serveBillFile(w http.ResponseWriter, r *http.Request) {
	body, ok := s.admit(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	data, res := s.billDownload(r, body)
	mode := s.mode
	s.mu.Unlock()
	if data == nil {
		s.writeSigned(w, res, mode, "")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(data)
}

func (s *Sandbox) billDownload(r *http.Request, body []byte) ([]byte, result) {
	m, res := s.authenticate(r, body)
	if m == nil {
		return nil, res
	}
	b := s.bills[r.URL.Query().Get("token")]
	switch {
	case b == nil || s.now().After(b.expires):
		return nil, apiError(http.StatusBadRequest, "INVALID_REQUEST", "下载地址无效或已过期，请重新申请账单")
	case b.mchid != m.mchid:
		return nil, apiError(http.StatusForbidden, "NO_AUTH", "无权下载该账单")
	}
	return b.data, result{}
}

// billRow is one line of the bill, dated for sorting, with its amounts in
// fen for the summary.
type billRow struct {
	at                            time.Time
	fields                        []string
	settled, refund, fee, ordered int64
}

// billCSV renders the merchant's trade bill for the China-time day of
// date (only sub-merchant sub's rows if sub is set); ok is false when the
// day has no payment or refund.
func (s *Sandbox) billCSV(m *merchant, sub string, date time.Time, billType string) ([]byte, bool) {
	var rows []billRow
	for _, o := range s.orders {
		if o.mchid == m.mchid && (sub == "" || o.subMchID == sub) && o.transactionID != "" && sameDay(o.paidAt, date) && billType != "REFUND" {
			rows = append(rows, paymentRow(o))
		}
	}
	for _, rf := range s.refunds {
		if rf.mchid == m.mchid && (sub == "" || rf.order.subMchID == sub) && sameDay(rf.created, date) && billType != "SUCCESS" {
			rows = append(rows, refundRow(rf))
		}
	}
	if len(rows) == 0 {
		return nil, false
	}
	slices.SortFunc(rows, func(a, b billRow) int { return a.at.Compare(b.at) })
	return renderBill(rows), true
}

func sameDay(t, day time.Time) bool {
	return t.In(chinaTime).Format(time.DateOnly) == day.Format(time.DateOnly)
}

func paymentRow(o *order) billRow {
	return billRow{at: o.paidAt, settled: o.total, fee: fee(o.total), ordered: o.total, fields: []string{
		billTime(o.paidAt), o.appid, o.mchid, o.billSubMchID(), "", o.transactionID, o.outTradeNo, o.openid, "JSAPI",
		"SUCCESS", "OTHERS", "CNY", yuan(o.total), "0.00", "0", "0", "0.00", "0.00", "", "",
		billText(o.description), billText(o.attach), yuan(fee(o.total)), "0.60%", yuan(o.total), "0.00", "",
	}}
}

func refundRow(rf *refund) billRow {
	o := rf.order
	return billRow{at: rf.created, refund: rf.amount, fee: -fee(rf.amount), fields: []string{
		billTime(rf.created), o.appid, o.mchid, o.billSubMchID(), "", o.transactionID, o.outTradeNo, o.openid, "JSAPI",
		"REFUND", "OTHERS", "CNY", "0.00", "0.00", rf.refundID, rf.outRefundNo, yuan(rf.amount), "0.00",
		"ORIGINAL", rf.status, billText(o.description), billText(o.attach), yuan(-fee(rf.amount)),
		"0.60%", "0.00", yuan(rf.amount), "",
	}}
}

// renderBill writes the header, the rows with a backquote before every
// field, and the summary, CRLF-terminated like WeChat's files.
func renderBill(rows []billRow) []byte {
	var b strings.Builder
	b.WriteString(strings.Join(billColumns, ",") + "\r\n")
	var total billRow
	for _, r := range rows {
		b.WriteString("`" + strings.Join(r.fields, ",`") + "\r\n")
		total.settled += r.settled
		total.refund += r.refund
		total.fee += r.fee
		total.ordered += r.ordered
	}
	b.WriteString(strings.Join(billSummaryColumns, ",") + "\r\n")
	summary := []string{fmt.Sprint(len(rows)), yuan(total.settled), yuan(total.refund), "0.00",
		yuan(total.fee), yuan(total.ordered), yuan(total.refund)}
	b.WriteString("`" + strings.Join(summary, ",`") + "\r\n")
	return []byte(b.String())
}

func billTime(t time.Time) string { return t.In(chinaTime).Format(time.DateTime) }

// billText keeps free text from breaking the line or field structure.
func billText(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ", ",`", ", `").Replace(s)
}

// fee is WeChat's 0.6% service fee in fen, rounded half up.
func fee(fen int64) int64 { return (fen*6 + 500) / 1000 }

func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

// billSubMchID is the bill's 特约商户号 column: the sub-merchant, or "0".
func (o *order) billSubMchID() string {
	if o.subMchID != "" {
		return o.subMchID
	}
	return "0"
}
