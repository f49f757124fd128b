package wechat

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Message push (消息推送): WeChat POSTs events (payments of virtual goods,
// subscription-message choices, shipping-management settlements, media
// check results, …) to one URL per mini program, configured in the mini
// program's admin with a Token, an EncodingAESKey, a mode (plain,
// compatible or safe) and a format (JSON or XML). Both formats and both
// modes are read here.

// PushConfig is what a mini program's push settings hold.
type PushConfig struct {
	AppID          string
	Token          string
	EncodingAESKey string // 43 characters; needed for safe mode
}

// ErrPushSignature is a push (or URL check) whose signature does not
// verify, or whose decrypted body names another mini program.
var ErrPushSignature = errors.New("wechat push: bad signature")

// ErrPushMalformed is a push that cannot be read: not JSON or XML, bad
// base64 or padding.
var ErrPushMalformed = errors.New("wechat push: malformed")

// pushSignature is hex(sha1(the parts sorted and concatenated)).
func pushSignature(parts ...string) string {
	sorted := append([]string(nil), parts...)
	sort.Strings(sorted)
	sum := sha1.Sum([]byte(strings.Join(sorted, "")))
	return hex.EncodeToString(sum[:])
}

func signatureMatches(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(want)) == 1
}

// VerifyPushURL answers WeChat's check of the push URL (a GET with
// signature, timestamp, nonce and echostr): the echostr to send back.
func VerifyPushURL(cfg PushConfig, q url.Values) (string, error) {
	if cfg.Token == "" || !signatureMatches(q.Get("signature"), pushSignature(cfg.Token, q.Get("timestamp"), q.Get("nonce"))) {
		return "", ErrPushSignature
	}
	return q.Get("echostr"), nil
}

// Push is one message pushed by WeChat, opened and verified.
type Push struct {
	MsgType, Event           string
	ToUserName, FromUserName string
	CreateTime               int64 // Unix seconds (a string in the docs, a number in practice)
	// Encrypted is true for a safe-mode push, whose body the signature
	// covers. A plain-mode signature covers only the timestamp and nonce,
	// so a plain push proves nothing about its body: act on it only after
	// asking WeChat (query the order, the check result).
	Encrypted bool
	Message   json.RawMessage // the whole message as JSON (XML is converted)
}

// Decode unmarshals the message into v. Field names match without regard
// to case, as WeChat's documentation and its servers disagree on case
// (OpenId / openid, WeChatPayInfo / WechatPayInfo).
func (p Push) Decode(v any) error { return json.Unmarshal(p.Message, v) }

// OpenPush verifies and reads a POSTed push: q is the request's query
// (signature, timestamp, nonce; encrypt_type=aes and msg_signature in
// safe mode), body its bytes.
func OpenPush(cfg PushConfig, q url.Values, body []byte) (Push, error) {
	ts, nonce := q.Get("timestamp"), q.Get("nonce")
	if cfg.Token == "" {
		return Push{}, ErrPushSignature
	}
	if q.Get("encrypt_type") != "aes" {
		if !signatureMatches(q.Get("signature"), pushSignature(cfg.Token, ts, nonce)) {
			return Push{}, ErrPushSignature
		}
		return readPush(body, false)
	}
	encrypted, err := envelopeCiphertext(body)
	if err != nil {
		return Push{}, err
	}
	if !signatureMatches(q.Get("msg_signature"), pushSignature(cfg.Token, ts, nonce, encrypted)) {
		return Push{}, ErrPushSignature
	}
	plain, err := decryptPush(cfg, encrypted)
	if err != nil {
		return Push{}, err
	}
	return readPush(plain, true)
}

// envelopeCiphertext takes Encrypt out of a safe-mode body, JSON or XML.
func envelopeCiphertext(body []byte) (string, error) {
	var env struct {
		Encrypt string `json:"Encrypt" xml:"Encrypt"`
	}
	var err error
	if isJSON(body) {
		err = json.Unmarshal(body, &env)
	} else {
		err = xml.Unmarshal(body, &env)
	}
	if err != nil || env.Encrypt == "" {
		return "", ErrPushMalformed
	}
	return env.Encrypt, nil
}

func pushKey(cfg PushConfig) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(cfg.EncodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("wechat push: the EncodingAESKey must be 43 base64 characters")
	}
	return key, nil
}

// decryptPush opens a safe-mode ciphertext: AES-256-CBC under the key
// from EncodingAESKey with its first 16 bytes as IV; the plaintext is 16
// random bytes, the message length (4 bytes, big-endian), the message and
// the AppID, padded (PKCS#7) to 32 bytes.
func decryptPush(cfg PushConfig, encrypted string) ([]byte, error) {
	key, err := pushKey(cfg)
	if err != nil {
		return nil, err
	}
	data, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil || len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, ErrPushMalformed
	}
	block, _ := aes.NewCipher(key)
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, key[:aes.BlockSize]).CryptBlocks(plain, data)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > 32 || pad > len(plain) {
		return nil, ErrPushMalformed
	}
	plain = plain[:len(plain)-pad]
	if len(plain) < 20 {
		return nil, ErrPushMalformed
	}
	n := int(binary.BigEndian.Uint32(plain[16:20]))
	if n > len(plain)-20 {
		return nil, ErrPushMalformed
	}
	msg, appid := plain[20:20+n], string(plain[20+n:])
	if appid != cfg.AppID {
		return nil, ErrPushSignature
	}
	return msg, nil
}

// SealPush encrypts a message as WeChat does in safe mode and returns the
// query and JSON body of the POST that carries it: for the sandbox and for
// tests.
func SealPush(cfg PushConfig, msg []byte, timestamp, nonce string) (url.Values, []byte, error) {
	key, err := pushKey(cfg)
	if err != nil {
		return nil, nil, err
	}
	var plain bytes.Buffer
	random := make([]byte, 16)
	_, _ = io.ReadFull(rand.Reader, random)
	plain.Write(random)
	_ = binary.Write(&plain, binary.BigEndian, uint32(len(msg)))
	plain.Write(msg)
	plain.WriteString(cfg.AppID)
	pad := 32 - plain.Len()%32
	plain.Write(bytes.Repeat([]byte{byte(pad)}, pad))
	block, _ := aes.NewCipher(key)
	out := make([]byte, plain.Len())
	cipher.NewCBCEncrypter(block, key[:aes.BlockSize]).CryptBlocks(out, plain.Bytes())
	encrypted := base64.StdEncoding.EncodeToString(out)
	q := url.Values{"timestamp": {timestamp}, "nonce": {nonce}, "encrypt_type": {"aes"},
		"signature": {pushSignature(cfg.Token, timestamp, nonce)}, "msg_signature": {pushSignature(cfg.Token, timestamp, nonce, encrypted)}}
	body, err := json.Marshal(map[string]string{"ToUserName": "gh_sandbox", "Encrypt": encrypted})
	return q, body, err
}

// SignPlainPush returns the query of a plain-mode push: for the sandbox
// and for tests.
func SignPlainPush(cfg PushConfig, timestamp, nonce string) url.Values {
	return url.Values{"timestamp": {timestamp}, "nonce": {nonce}, "signature": {pushSignature(cfg.Token, timestamp, nonce)}}
}

func isJSON(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{'
}

// readPush parses a message, JSON or XML, and its common fields.
func readPush(msg []byte, encrypted bool) (Push, error) {
	raw := json.RawMessage(bytes.TrimSpace(msg))
	if !isJSON(msg) {
		converted, err := xmlToJSON(msg)
		if err != nil {
			return Push{}, ErrPushMalformed
		}
		raw = converted
	}
	var head struct {
		MsgType, Event, ToUserName, FromUserName string
		CreateTime                               json.RawMessage
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return Push{}, ErrPushMalformed
	}
	created, err := strconv.ParseInt(strings.Trim(string(head.CreateTime), `"`), 10, 64)
	if err != nil && len(head.CreateTime) > 0 {
		return Push{}, ErrPushMalformed
	}
	return Push{MsgType: head.MsgType, Event: head.Event, ToUserName: head.ToUserName, FromUserName: head.FromUserName,
		CreateTime: created, Encrypted: encrypted, Message: raw}, nil
}

// xmlToJSON turns a push's XML (<xml><Field>value</Field>…</xml>, nested
// elements, repeated elements such as <List>) into the JSON object WeChat
// would have sent: text as strings, nested elements as objects, repeated
// ones as arrays.
func xmlToJSON(doc []byte) (json.RawMessage, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		if start, ok := tok.(xml.StartElement); ok {
			v, err := xmlElement(d, start)
			if err != nil {
				return nil, err
			}
			if _, isObject := v.(map[string]any); !isObject {
				return nil, ErrPushMalformed
			}
			return json.Marshal(v)
		}
	}
}

// xmlElement reads one element's content: its text when it has no child
// elements, else an object of its children.
func xmlElement(d *xml.Decoder, start xml.StartElement) (any, error) {
	var text strings.Builder
	var children map[string]any
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			text.Write(t)
		case xml.StartElement:
			v, err := xmlElement(d, t)
			if err != nil {
				return nil, err
			}
			if children == nil {
				children = map[string]any{}
			}
			addXMLChild(children, t.Name.Local, v)
		case xml.EndElement:
			if children != nil {
				return children, nil
			}
			return strings.TrimSpace(text.String()), nil
		}
	}
}

func addXMLChild(children map[string]any, name string, v any) {
	prev, seen := children[name]
	switch {
	case !seen:
		children[name] = v
	default:
		if list, isList := prev.([]any); isList {
			children[name] = append(list, v)
		} else {
			children[name] = []any{prev, v}
		}
	}
}

// OneOrMany reads a field WeChat sends as an object for one item and an
// array for several (the List of subscription-message events).
type OneOrMany[T any] []T

// UnmarshalJSON accepts an object or an array of them.
func (o *OneOrMany[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var list []T
		err := json.Unmarshal(b, &list)
		*o = list
		return err
	}
	var one T
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*o = []T{one}
	return nil
}

// PushAck is the body that tells WeChat a push was taken (any 200 with
// "success" or an empty body does, for every event but xpay's).
const PushAck = "success"
