package sms

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// AliyunAlgorithm names Aliyun's V3 signature.
const AliyunAlgorithm = "ACS3-HMAC-SHA256"

// aliyunSigned are the headers the client signs, sorted.
var aliyunSigned = []string{"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}

func (c *Client) sendAliyun(ctx context.Context, cred Credentials, m Message) (Result, error) {
	endpoint := c.AliyunEndpoint
	if endpoint == "" {
		endpoint = "https://dysmsapi.aliyuncs.com"
	}
	params := map[string]string{}
	for _, p := range m.Params {
		params[p.Name] = p.Value
	}
	tplParam, _ := json.Marshal(params)
	q := url.Values{"PhoneNumbers": {m.Phone}, "SignName": {m.SignName}, "TemplateCode": {m.Template}, "TemplateParam": {string(tplParam)}}
	u, err := url.Parse(endpoint + "/?" + AliyunQuery(q))
	if err != nil {
		return Result{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return Result{}, err
	}
	req.Header.Set("host", u.Host)
	req.Header.Set("x-acs-action", "SendSms")
	req.Header.Set("x-acs-version", "2017-05-25")
	req.Header.Set("x-acs-date", c.now().UTC().Format("2006-01-02T15:04:05Z"))
	req.Header.Set("x-acs-signature-nonce", nonce())
	req.Header.Set("x-acs-content-sha256", hexSHA256(nil))
	cr := AliyunCanonicalRequest(http.MethodPost, "/", q, req.Header, aliyunSigned, nil)
	req.Header.Set("Authorization", fmt.Sprintf("%s Credential=%s,SignedHeaders=%s,Signature=%s",
		AliyunAlgorithm, cred.AccessKeyID, strings.Join(aliyunSigned, ";"), AliyunSignature(cred.AccessSecret, cr)))
	var out struct{ Code, Message, BizId, RequestId string }
	if err := c.do(req, &out); err != nil {
		return Result{}, err
	}
	if out.Code != "OK" {
		return Result{}, &Error{Provider: Aliyun, Code: out.Code, Message: out.Message, class: classify(Aliyun, out.Code)}
	}
	return Result{ID: out.BizId, RequestID: out.RequestId}, nil
}

// AliyunCanonicalRequest is ACS3's canonical request: method, path, the
// sorted encoded query, the signed headers as lowercase "name:value" lines
// (values trimmed), their names joined by ";", and hex(sha256(body)).
func AliyunCanonicalRequest(method, path string, query url.Values, h http.Header, signed []string, body []byte) string {
	var b strings.Builder
	b.WriteString(method + "\n" + path + "\n" + AliyunQuery(query) + "\n")
	for _, name := range signed {
		b.WriteString(name + ":" + strings.TrimSpace(h.Get(name)) + "\n")
	}
	b.WriteString("\n" + strings.Join(signed, ";") + "\n" + hexSHA256(body))
	return b.String()
}

// AliyunSignature signs a canonical request: hex(HMAC-SHA256(secret,
// "ACS3-HMAC-SHA256\n" + hex(sha256(canonical)))).
func AliyunSignature(secret, canonical string) string {
	return hexHMAC([]byte(secret), AliyunAlgorithm+"\n"+hexSHA256([]byte(canonical)))
}

// AliyunQuery is the canonical query string: names sorted, names and values
// percent-encoded by RFC 3986 (space %20, * %2A, ~ kept).
func AliyunQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		for _, v := range q[k] {
			parts = append(parts, percentEncode(k)+"="+percentEncode(v))
		}
	}
	return strings.Join(parts, "&")
}

func percentEncode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	return strings.ReplaceAll(e, "%7E", "~")
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func hexHMAC(key []byte, msg string) string { return hex.EncodeToString(hmacSHA256(key, msg)) }

func nonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// do sends req and decodes a JSON answer; a non-200 status or an unreadable
// body is a Temporary error.
func (c *Client) do(req *http.Request, out any) error {
	resp, err := c.http().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK && !json.Valid(body) {
		return fmt.Errorf("sms: HTTP %d", resp.StatusCode)
	}
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(out); err != nil {
		return fmt.Errorf("sms: unreadable answer (HTTP %d): %w", resp.StatusCode, err)
	}
	return nil
}
