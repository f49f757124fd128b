package wechatpay

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxBillBytes bounds a downloaded bill, compressed and uncompressed.
const maxBillBytes = 256 << 20

type billInfo struct {
	HashType    string `json:"hash_type"`
	HashValue   string `json:"hash_value"`
	DownloadURL string `json:"download_url"`
}

// TradeBill downloads the ALL trade bill of a day (date "2006-01-02", China
// time; available from about 10:00 the next day) and returns it as CSV
// (see ParseTradeBill). With compressed it asks for tar_type=GZIP and
// gunzips the file. Either way the SHA1 hash_value WeChat announces for
// the uncompressed bill is checked; a mismatch wraps ErrBillHash.
//
// The file itself comes unsigned, as from WeChat; the client fetches the
// download_url's path and query from its own base URL, so the signed
// request never leaves the configured host.
func (c *Client) TradeBill(ctx context.Context, date string, compressed bool) ([]byte, error) {
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return nil, fmt.Errorf("wechatpay: trade bill: %w: date must be YYYY-MM-DD", ErrInvalidRequest)
	}
	query := url.Values{"bill_date": {date}, "bill_type": {"ALL"}}
	if compressed {
		query.Set("tar_type", "GZIP")
	}
	if c.m.Partner() {
		query.Set("sub_mchid", c.m.SubMchID) // only this sub-merchant's rows
	}
	var info billInfo
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v3/bill/tradebill", query: query}, &info); err != nil {
		return nil, err
	}
	data, err := c.downloadBill(ctx, info.DownloadURL)
	if err != nil {
		return nil, err
	}
	if compressed {
		if data, err = gunzip(data); err != nil {
			return nil, fmt.Errorf("wechatpay: trade bill %s: %w", date, err)
		}
	}
	if err := checkBillHash(info, data); err != nil {
		return nil, fmt.Errorf("wechatpay: trade bill %s: %w", date, err)
	}
	return data, nil
}

// downloadBill fetches a bill file: the request is signed, the answer is
// not (WeChat does not sign files).
func (c *Client) downloadBill(ctx context.Context, downloadURL string) ([]byte, error) {
	u, err := url.Parse(downloadURL)
	if err != nil || u.Path == "" {
		return nil, fmt.Errorf("wechatpay: trade bill: malformed download_url")
	}
	cl := call{method: http.MethodGet, path: u.EscapedPath(), raw: u.RawQuery}
	_, data, err := c.send(ctx, cl, maxBillBytes)
	return data, err
}

func gunzip(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	defer zr.Close()
	out, err := readLimited(zr, maxBillBytes)
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	return out, nil
}

func checkBillHash(info billInfo, data []byte) error {
	if !strings.EqualFold(info.HashType, "SHA1") {
		return fmt.Errorf("%w: unsupported hash_type %.20q", ErrBillHash, info.HashType)
	}
	sum := sha1.Sum(data)
	if !strings.EqualFold(hex.EncodeToString(sum[:]), info.HashValue) {
		return fmt.Errorf("%w: file does not match hash_value", ErrBillHash)
	}
	return nil
}

// TradeBillFile is a parsed trade bill: one record per payment or refund,
// keyed by the Chinese column names of its header (交易时间, 商户订单号,
// 交易状态, 应结订单金额, 退款金额, …), and the summary line keyed the same
// way (总交易单数, 应结订单总金额, 退款总金额, …). Amounts are yuan strings
// such as "12.34"; the leading backquotes are removed.
type TradeBillFile struct {
	Columns []string
	Records []map[string]string
	Summary map[string]string
}

// ParseTradeBill parses a trade bill as WeChat formats it: a header line,
// record lines whose every field starts with a backquote, then a summary
// header line and a summary line.
func ParseTradeBill(data []byte) (TradeBillFile, error) {
	lines := billLines(data)
	if len(lines) < 3 {
		return TradeBillFile{}, fmt.Errorf("wechatpay: trade bill: %d lines, want at least 3", len(lines))
	}
	bill := TradeBillFile{Columns: strings.Split(lines[0], ",")}
	rest := lines[1:]
	for len(rest) > 0 && strings.HasPrefix(rest[0], "`") {
		rec, err := billRecord(bill.Columns, rest[0])
		if err != nil {
			return TradeBillFile{}, fmt.Errorf("wechatpay: trade bill record %d: %w", len(bill.Records)+1, err)
		}
		bill.Records = append(bill.Records, rec)
		rest = rest[1:]
	}
	if len(rest) != 2 {
		return TradeBillFile{}, fmt.Errorf("wechatpay: trade bill: want a summary header and line after the records")
	}
	summary, err := billRecord(strings.Split(rest[0], ","), rest[1])
	if err != nil {
		return TradeBillFile{}, fmt.Errorf("wechatpay: trade bill summary: %w", err)
	}
	bill.Summary = summary
	return bill, nil
}

// billLines splits data into non-empty lines without CR or a leading BOM.
func billLines(data []byte) []string {
	text := strings.TrimPrefix(string(data), "\uFEFF")
	var lines []string
	for line := range strings.SplitSeq(text, "\n") {
		if line = strings.TrimRight(line, "\r"); line != "" {
			lines = append(lines, line)
		}
	}
	return lines
}

// billRecord splits a "`a,`b,`c" line; fields may contain commas but not
// ",`".
func billRecord(columns []string, line string) (map[string]string, error) {
	if !strings.HasPrefix(line, "`") {
		return nil, fmt.Errorf("line does not start with a backquote")
	}
	fields := strings.Split(line[1:], ",`")
	if len(fields) != len(columns) {
		return nil, fmt.Errorf("%d fields, want %d", len(fields), len(columns))
	}
	rec := make(map[string]string, len(columns))
	for i, col := range columns {
		rec[col] = fields[i]
	}
	return rec, nil
}
