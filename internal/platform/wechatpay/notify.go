package wechatpay

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

const (
	maxNotificationBytes = 1 << 20
	algorithmAES256GCM   = "AEAD_AES_256_GCM"
	gcmNonceSize         = 12
)

// Notification is a verified and decrypted WeChat Pay notification.
type Notification struct {
	ID           string // event id; WeChat redelivers the same id until answered 2xx
	CreateTime   string // RFC 3339
	EventType    string // "TRANSACTION.SUCCESS", "REFUND.SUCCESS", "REFUND.ABNORMAL", "REFUND.CLOSED"
	ResourceType string // "encrypt-resource"
	Summary      string
	OriginalType string // "transaction" or "refund"
	Plaintext    []byte // the decrypted resource, JSON
}

type envelope struct {
	ID           string   `json:"id"`
	CreateTime   string   `json:"create_time"`
	ResourceType string   `json:"resource_type"`
	EventType    string   `json:"event_type"`
	Summary      string   `json:"summary"`
	Resource     resource `json:"resource"`
}

type resource struct {
	OriginalType   string `json:"original_type"`
	Algorithm      string `json:"algorithm"`
	Ciphertext     string `json:"ciphertext"`
	AssociatedData string `json:"associated_data"`
	Nonce          string `json:"nonce"`
}

// ParseNotification reads a notification request (at most 1 MiB), checks
// WeChat's signature over the raw body with v, the timestamp against now
// (within MaxClockSkew), and the algorithm, then decrypts the resource
// with the 32-byte APIv3 key. Errors for which IsRejected is true wrap
// ErrMalformed, ErrBadSignature, ErrStaleTimestamp, ErrUnknownSerial,
// ErrBadAlgorithm or ErrBadCiphertext; answer them 4xx.
//
// A valid notification may be a redelivery: handle it idempotently, keyed
// by the order or refund (or ID), and answer 2xx within 5 seconds.
func ParseNotification(r *http.Request, v *Verifier, apiV3Key []byte, now time.Time) (Notification, error) {
	return parseNotification(r, apiV3Key, func(h http.Header, body []byte) error { return v.Verify(h, body, now) })
}

// parseNotification is ParseNotification with the signature check given.
func parseNotification(r *http.Request, apiV3Key []byte, verify func(http.Header, []byte) error) (Notification, error) {
	if len(apiV3Key) != apiV3KeySize {
		return Notification{}, fmt.Errorf("wechatpay: notification: APIv3 key has %d bytes, want %d", len(apiV3Key), apiV3KeySize)
	}
	body, err := readNotification(r)
	if err != nil {
		return Notification{}, fmt.Errorf("wechatpay: notification: %w", err)
	}
	if err := verify(r.Header, body); err != nil {
		return Notification{}, fmt.Errorf("wechatpay: notification: %w", err)
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil || env.ID == "" {
		return Notification{}, fmt.Errorf("wechatpay: notification: %w: not a notification JSON", ErrMalformed)
	}
	plaintext, err := decryptResource(apiV3Key, env.Resource)
	if err != nil {
		return Notification{}, fmt.Errorf("wechatpay: notification %s: %w", env.ID, err)
	}
	return Notification{
		ID: env.ID, CreateTime: env.CreateTime, EventType: env.EventType,
		ResourceType: env.ResourceType, Summary: env.Summary,
		OriginalType: env.Resource.OriginalType, Plaintext: plaintext,
	}, nil
}

// ParseNotification is the package function with the client's verifier,
// APIv3 key and clock; a notification signed with an unknown certificate
// serial triggers the client's KeyRefresher (see OnUnknownSerial).
func (c *Client) ParseNotification(r *http.Request) (Notification, error) {
	return parseNotification(r, c.m.APIv3Key, func(h http.Header, body []byte) error {
		return c.verify(r.Context(), h, body)
	})
}

func readNotification(r *http.Request) ([]byte, error) {
	if r.Method != http.MethodPost {
		return nil, fmt.Errorf("%w: method %s, want POST", ErrMalformed, r.Method)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxNotificationBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read body: %v", ErrMalformed, err)
	}
	if len(body) > maxNotificationBytes {
		return nil, fmt.Errorf("%w: body over %d bytes", ErrMalformed, maxNotificationBytes)
	}
	return body, nil
}

// decryptResource opens an AEAD_AES_256_GCM resource: nonce = the 12-byte
// nonce string, AAD = associated_data, ciphertext = base64(ct‖tag).
func decryptResource(key []byte, res resource) ([]byte, error) {
	if res.Algorithm != algorithmAES256GCM {
		return nil, fmt.Errorf("%w: %.32q", ErrBadAlgorithm, res.Algorithm)
	}
	sealed, err := base64.StdEncoding.DecodeString(res.Ciphertext)
	if err != nil {
		return nil, fmt.Errorf("%w: ciphertext is not base64", ErrBadCiphertext)
	}
	if len(res.Nonce) != gcmNonceSize {
		return nil, fmt.Errorf("%w: nonce has %d bytes, want %d", ErrBadCiphertext, len(res.Nonce), gcmNonceSize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, errors.New("APIv3 key is not an AES-256 key")
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, errors.New("cannot set up AES-GCM")
	}
	plaintext, err := gcm.Open(nil, []byte(res.Nonce), sealed, []byte(res.AssociatedData))
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed (wrong APIv3 key or tampered resource)", ErrBadCiphertext)
	}
	return plaintext, nil
}

// Transaction decodes a payment notification (original type
// "transaction").
func (n Notification) Transaction() (Transaction, error) {
	var t Transaction
	err := n.decode("transaction", &t)
	return t, err
}

// RefundNotice is the resource of a REFUND.* notification. Amounts are in
// fen; SuccessTime is RFC 3339 and set for REFUND.SUCCESS.
type RefundNotice struct {
	MchID               string `json:"mchid"`
	SpMchID             string `json:"sp_mchid"`  // service-provider mode, instead of mchid
	SubMchID            string `json:"sub_mchid"` // service-provider mode
	OutTradeNo          string `json:"out_trade_no"`
	TransactionID       string `json:"transaction_id"`
	OutRefundNo         string `json:"out_refund_no"`
	RefundID            string `json:"refund_id"`
	RefundStatus        string `json:"refund_status"`
	SuccessTime         string `json:"success_time"`
	UserReceivedAccount string `json:"user_received_account"`
	Amount              struct {
		Total       int64 `json:"total"`
		Refund      int64 `json:"refund"`
		PayerTotal  int64 `json:"payer_total"`
		PayerRefund int64 `json:"payer_refund"`
	} `json:"amount"`
}

// OwnsRefund reports whether rn is a refund of the client's merchant (for
// a sub-merchant: the same sp_mchid and sub_mchid).
func (c *Client) OwnsRefund(rn RefundNotice) bool {
	if c.m.Partner() {
		return rn.SpMchID == c.m.MchID && rn.SubMchID == c.m.SubMchID && rn.MchID == ""
	}
	return rn.MchID == c.m.MchID && rn.SubMchID == ""
}

// RefundNotice decodes a refund notification (original type "refund").
func (n Notification) RefundNotice() (RefundNotice, error) {
	var rn RefundNotice
	err := n.decode("refund", &rn)
	return rn, err
}

func (n Notification) decode(originalType string, v any) error {
	if n.OriginalType != originalType {
		return fmt.Errorf("wechatpay: notification %s carries a %q, not a %q", n.ID, n.OriginalType, originalType)
	}
	if err := json.Unmarshal(n.Plaintext, v); err != nil {
		return fmt.Errorf("wechatpay: notification %s: decode %s: %w", n.ID, originalType, err)
	}
	return nil
}

// WriteNotificationReply answers a notification request: 204 when err is
// nil, 400 when IsRejected(err), else 500; failures carry WeChat's
// {"code":"FAIL","message":…} body. The message is generic, so nothing
// about the verification leaks to a forger.
func WriteNotificationReply(w http.ResponseWriter, err error) {
	if err == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	status, msg := http.StatusInternalServerError, "internal error"
	if IsRejected(err) {
		status, msg = http.StatusBadRequest, "invalid notification"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": "FAIL", "message": msg})
}
