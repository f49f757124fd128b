package paysandbox

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// authorization is a parsed WECHATPAY2-SHA256-RSA2048 header.
type authorization struct {
	mchid, nonce, timestamp, serial, signature string
}

// parseAuthorization parses `SCHEME mchid="…",nonce_str="…",timestamp="…",
// serial_no="…",signature="…"`; every field is required, once.
func parseAuthorization(header string) (authorization, error) {
	params, ok := strings.CutPrefix(header, authScheme+" ")
	if !ok {
		return authorization{}, errors.New("Authorization 头不是 " + authScheme)
	}
	fields := make(map[string]string)
	for part := range strings.SplitSeq(params, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || len(value) < 2 || value[0] != '"' || value[len(value)-1] != '"' {
			return authorization{}, errors.New("Authorization 头格式错误")
		}
		if _, dup := fields[key]; dup {
			return authorization{}, errors.New("Authorization 头字段重复: " + key)
		}
		fields[key] = value[1 : len(value)-1]
	}
	a := authorization{fields["mchid"], fields["nonce_str"], fields["timestamp"], fields["serial_no"], fields["signature"]}
	if a.mchid == "" || a.nonce == "" || a.timestamp == "" || a.serial == "" || a.signature == "" || len(fields) != 5 {
		return authorization{}, errors.New("Authorization 头缺少或多出字段")
	}
	return a, nil
}

// authenticate checks a request the way WeChat does: header syntax, known
// mchid and certificate serial, |now − timestamp| ≤ 300 s, a nonce not seen
// before, and the signature over METHOD, path+query, timestamp, nonce and
// the raw body. Failures are 401 SIGN_ERROR. Runs with s.mu held.
func (s *Sandbox) authenticate(r *http.Request, body []byte) (*merchant, result) {
	a, err := parseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return nil, signError(err.Error())
	}
	m := s.merchants[a.mchid]
	switch {
	case m == nil:
		return nil, signError("商户号不存在: " + a.mchid)
	case !strings.EqualFold(a.serial, m.serial):
		return nil, signError("serial_no 不是该商户的证书序列号")
	}
	now := s.now()
	if err := checkTimestamp(a.timestamp, now); err != nil {
		return nil, signError(err.Error())
	}
	if s.nonceSeen(a, now) {
		return nil, signError("nonce_str 重复 (replayed request)")
	}
	message := r.Method + "\n" + r.URL.RequestURI() + "\n" + a.timestamp + "\n" + a.nonce + "\n" + string(body) + "\n"
	if !verifySHA256(m.pub, message, a.signature) {
		return nil, signError("签名错误: signature does not match the request")
	}
	s.nonces[a.mchid+"\x00"+a.nonce] = now
	return m, result{}
}

func signError(detail string) result {
	return apiError(http.StatusUnauthorized, "SIGN_ERROR", "签名错误: "+detail)
}

func checkTimestamp(ts string, now time.Time) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("timestamp 格式错误")
	}
	if now.Sub(time.Unix(sec, 0)).Abs() > clockSkew {
		return errors.New("timestamp 与当前时间相差超过 300 秒")
	}
	return nil
}

// nonceSeen reports whether the merchant already used a's nonce, first
// forgetting nonces too old to be replayed (their timestamps would be
// rejected anyway).
func (s *Sandbox) nonceSeen(a authorization, now time.Time) bool {
	if now.Sub(s.noncesPruned) > clockSkew {
		for k, seen := range s.nonces {
			if now.Sub(seen) > 3*clockSkew {
				delete(s.nonces, k)
			}
		}
		s.noncesPruned = now
	}
	_, seen := s.nonces[a.mchid+"\x00"+a.nonce]
	return seen
}
