package sms

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// TencentAlgorithm names Tencent Cloud's signature.
const TencentAlgorithm = "TC3-HMAC-SHA256"

const tencentContentType = "application/json"

type tencentRequest struct {
	PhoneNumberSet   []string
	SmsSdkAppId      string
	SignName         string
	TemplateId       string
	TemplateParamSet []string
}

func (c *Client) sendTencent(ctx context.Context, cred Credentials, m Message) (Result, error) {
	endpoint := c.TencentEndpoint
	if endpoint == "" {
		endpoint = "https://sms.tencentcloudapi.com"
	}
	u, err := url.Parse(endpoint + "/")
	if err != nil {
		return Result{}, err
	}
	in := tencentRequest{PhoneNumberSet: []string{"+86" + m.Phone}, SmsSdkAppId: cred.SdkAppID, SignName: m.SignName, TemplateId: m.Template, TemplateParamSet: []string{}}
	for _, p := range m.Params {
		in.TemplateParamSet = append(in.TemplateParamSet, p.Value)
	}
	body, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return Result{}, err
	}
	region := cred.Region
	if region == "" {
		region = "ap-guangzhou"
	}
	now := c.now()
	req.Header.Set("Content-Type", tencentContentType)
	req.Header.Set("Host", u.Host)
	req.Header.Set("X-TC-Action", "SendSms")
	req.Header.Set("X-TC-Version", "2021-01-11")
	req.Header.Set("X-TC-Timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("X-TC-Region", region)
	req.Header.Set("Authorization", TencentAuthorization(cred.AccessKeyID, cred.AccessSecret, u.Host, tencentContentType, now.Unix(), body))
	var out struct {
		Response struct {
			SendStatusSet []struct{ SerialNo, PhoneNumber, Code, Message string }
			Error         *struct{ Code, Message string }
			RequestId     string
		}
	}
	if err := c.do(req, &out); err != nil {
		return Result{}, err
	}
	r := out.Response
	if r.Error != nil {
		return Result{}, &Error{Provider: Tencent, Code: r.Error.Code, Message: r.Error.Message, class: classify(Tencent, r.Error.Code)}
	}
	if len(r.SendStatusSet) != 1 {
		return Result{}, fmt.Errorf("sms tencent: %d statuses for one number", len(r.SendStatusSet))
	}
	st := r.SendStatusSet[0]
	if st.Code != "Ok" {
		return Result{}, &Error{Provider: Tencent, Code: st.Code, Message: st.Message, class: classify(Tencent, st.Code)}
	}
	return Result{ID: st.SerialNo, RequestID: r.RequestId}, nil
}

// TencentAuthorization is the Authorization header of a TC3-signed POST
// to the sms service at host with body, at Unix time ts.
func TencentAuthorization(secretID, secretKey, host, contentType string, ts int64, body []byte) string {
	date := time.Unix(ts, 0).UTC().Format("2006-01-02")
	return fmt.Sprintf("%s Credential=%s/%s/sms/tc3_request, SignedHeaders=content-type;host, Signature=%s",
		TencentAlgorithm, secretID, date, TencentSignature(secretKey, host, contentType, ts, body))
}

// TencentSignature is TC3's signature: the canonical request over the
// content-type and host headers and the body, the string to sign with the
// timestamp and the credential scope, and the key derived by the HMAC
// chain "TC3"+key → date → "sms" → "tc3_request".
func TencentSignature(secretKey, host, contentType string, ts int64, body []byte) string {
	date := time.Unix(ts, 0).UTC().Format("2006-01-02")
	cr := "POST\n/\n\ncontent-type:" + contentType + "\nhost:" + host + "\n\ncontent-type;host\n" + hexSHA256(body)
	sts := TencentAlgorithm + "\n" + strconv.FormatInt(ts, 10) + "\n" + date + "/sms/tc3_request\n" + hexSHA256([]byte(cr))
	k := hmacSHA256([]byte("TC3"+secretKey), date)
	k = hmacSHA256(k, "sms")
	k = hmacSHA256(k, "tc3_request")
	return hex.EncodeToString(hmacSHA256(k, sts))
}
