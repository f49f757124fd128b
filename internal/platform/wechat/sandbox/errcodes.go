package sandbox

import "fmt"

// WeChat errcodes the sandbox produces.
const (
	errInvalidToken  = 40001
	errGrantType     = 40002
	errInvalidOpenID = 40003
	errInvalidAppID  = 40013
	errInvalidCode   = 40029
	errInvalidURL    = 40066
	errInvalidArgs   = 40097
	errInvalidSecret = 40125
	errCodeUsed      = 40163
	errMissingToken  = 41001
	errMissingAppID  = 41002
	errMissingSecret = 41004
	errMissingCode   = 41008
	errExpiredToken  = 42001
	errRequireGET    = 43001
	errRequirePOST   = 43002
	errDataFormat    = 47001
)

var errMessages = map[int]string{
	-1:    "system error",
	40001: "invalid credential, access_token is invalid or not latest",
	40002: "invalid grant_type",
	40003: "invalid openid",
	40013: "invalid appid",
	40014: "invalid access_token",
	40029: "invalid code",
	40066: "invalid url",
	40097: "invalid args",
	40125: "invalid appsecret",
	40163: "code been used",
	40226: "high risk user",
	41001: "access_token missing",
	41002: "appid missing",
	41004: "appsecret missing",
	41008: "missing code",
	42001: "access_token expired",
	43001: "require GET method",
	43002: "require POST method",
	45009: "reach max api daily quota limit",
	45011: "api minute-quota reach limit  mustslower  retry next minute",
	47001: "data format error",
}

// errReply is WeChat's error body for code, with a request id as the real
// service appends one.
func errReply(code int) reply {
	msg, ok := errMessages[code]
	if !ok {
		msg = fmt.Sprintf("sandbox error %d", code)
	}
	return errReplyMsg(code, msg)
}

func errReplyMsg(code int, msg string) reply {
	return reply{"errcode": code, "errmsg": msg + ", rid: " + randomHex(12)}
}
