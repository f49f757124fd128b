package paysandbox

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"
)

// Tamper spoils the next notification (TamperNextNotification) or API
// response (TamperNextResponse, signature modes only).
type Tamper string

// Tamper modes. All but TamperDuplicate deliver a forgery once, instead of
// the genuine notification, and expect a non-2xx answer and no state
// change; the genuine one can then be sent with Renotify.
const (
	TamperBadSignature      Tamper = "bad_signature"      // a real signature over other bytes
	TamperProbeSignature    Tamper = "probe_signature"    // WeChat's "WECHATPAY/SIGNTEST/…" probe
	TamperStaleTimestamp    Tamper = "stale_timestamp"    // correctly signed, 10 minutes old
	TamperUnknownSerial     Tamper = "unknown_serial"     // Wechatpay-Serial names no known key
	TamperCorruptCiphertext Tamper = "corrupt_ciphertext" // signed, but the resource fails authentication
	TamperWrongAlgorithm    Tamper = "wrong_algorithm"    // signed, algorithm other than AEAD_AES_256_GCM
	// TamperDuplicate delivers the genuine notification, then delivers it
	// again with the same event id and body: the server should answer 2xx
	// both times and act once.
	TamperDuplicate Tamper = "duplicate_event"

	tamperDrop Tamper = "drop"
)

var (
	notificationTampers = []Tamper{TamperBadSignature, TamperProbeSignature, TamperStaleTimestamp,
		TamperUnknownSerial, TamperCorruptCiphertext, TamperWrongAlgorithm, TamperDuplicate}
	responseTampers = []Tamper{TamperBadSignature, TamperProbeSignature, TamperStaleTimestamp, TamperUnknownSerial}
)

// TamperNextNotification spoils the next notification. Calls queue.
func (s *Sandbox) TamperNextNotification(t Tamper) error {
	if !slices.Contains(notificationTampers, t) {
		return fmt.Errorf("paysandbox: unknown notification tamper mode %q", t)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notifyTampers = append(s.notifyTampers, t)
	return nil
}

// TamperNextResponse spoils the signature of the next API response (bad or
// probe signature, stale timestamp, unknown serial). Calls queue.
func (s *Sandbox) TamperNextResponse(t Tamper) error {
	if !slices.Contains(responseTampers, t) {
		return fmt.Errorf("paysandbox: tamper mode %q does not apply to responses", t)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.responseTampers = append(s.responseTampers, t)
	return nil
}

// DropNextNotification loses the next notification: the state changes
// but nothing is sent, so the merchant must find out by querying.
func (s *Sandbox) DropNextNotification() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notifyTampers = append(s.notifyTampers, tamperDrop)
}

// SetRetrySchedule sets the waits before each redelivery of a notification
// not answered 2xx; empty means no redelivery.
func (s *Sandbox) SetRetrySchedule(waits ...time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retries = append([]time.Duration(nil), waits...)
}

// Attempt is one POST of a notification.
type Attempt struct {
	Status int    `json:"status"`          // 0 if no answer arrived
	Error  string `json:"error,omitempty"` // transport error
	Body   string `json:"body,omitempty"`  // start of the answer
}

func (a Attempt) ok() bool { return a.Status >= 200 && a.Status <= 299 }

// Delivery reports what became of a notification.
type Delivery struct {
	EventID   string    `json:"event_id"`
	EventType string    `json:"event_type"`
	URL       string    `json:"url"` // empty: the order or refund had no notify_url
	Tamper    Tamper    `json:"tamper,omitempty"`
	Dropped   bool      `json:"dropped,omitempty"`
	Attempts  []Attempt `json:"attempts"`
	Delivered bool      `json:"delivered"` // some attempt was answered 2xx
}

// notice is a notification ready to seal and send.
type notice struct {
	url, eventID, eventType, summary, originalType string
	plaintext, apiV3Key                            []byte
	tamper                                         Tamper
	retries                                        []time.Duration
}

// newNotice prepares a notification, taking the next tamper mode. Runs
// with s.mu held.
func (s *Sandbox) newNotice(mchid, url, eventID, eventType, summary, originalType string, plaintext []byte) notice {
	var key []byte
	if m := s.merchants[mchid]; m != nil {
		key = m.apiV3Key
	}
	return notice{url: url, eventID: eventID, eventType: eventType, summary: summary,
		originalType: originalType, plaintext: plaintext, apiV3Key: key,
		tamper: pop(&s.notifyTampers), retries: s.retries}
}

// deliver seals n and POSTs it to its URL as its tamper mode says,
// redelivering a genuine notification on non-2xx along the retry schedule.
func (s *Sandbox) deliver(ctx context.Context, n notice) Delivery {
	d := Delivery{EventID: n.eventID, EventType: n.eventType, URL: n.url, Tamper: n.tamper}
	if n.tamper == tamperDrop {
		d.Tamper, d.Dropped = "", true
		return d
	}
	if n.url == "" {
		return d
	}
	body, err := n.envelope(s.now())
	if err != nil {
		d.Attempts = []Attempt{{Error: err.Error()}}
		return d
	}
	switch n.tamper {
	case "":
		d.Attempts = s.postRetrying(ctx, n, body)
	case TamperDuplicate:
		d.Attempts = append(s.postRetrying(ctx, n, body), s.post(ctx, n.url, body, ""))
	default:
		d.Attempts = []Attempt{s.post(ctx, n.url, body, n.tamper)}
	}
	d.Delivered = slices.ContainsFunc(d.Attempts, Attempt.ok)
	return d
}

func (s *Sandbox) postRetrying(ctx context.Context, n notice, body []byte) []Attempt {
	var attempts []Attempt
	for i := 0; ; i++ {
		a := s.post(ctx, n.url, body, "")
		attempts = append(attempts, a)
		if a.ok() || i == len(n.retries) || !s.wait(ctx, n.retries[i]) {
			return attempts
		}
	}
}

// wait sleeps for d; it returns false if ctx ends or the sandbox closes.
func (s *Sandbox) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.closed:
	}
	return false
}

// post sends one signed copy of a notification body.
func (s *Sandbox) post(ctx context.Context, url string, body []byte, tamper Tamper) Attempt {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Attempt{Error: err.Error()}
	}
	for k, v := range s.signatureHeaders(body, s.keyMode(), tamper) {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Mozilla/4.0 (WeChat Pay paysandbox)")
	resp, err := s.http.Do(req)
	if err != nil {
		return Attempt{Error: err.Error()}
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return Attempt{Status: resp.StatusCode, Body: string(answer)}
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

// envelope seals the plaintext and returns the notification body, spoiled
// as n.tamper asks.
func (n notice) envelope(now time.Time) ([]byte, error) {
	res, err := seal(n.apiV3Key, n.originalType, n.plaintext)
	if err != nil {
		return nil, err
	}
	switch n.tamper {
	case TamperCorruptCiphertext:
		res.Ciphertext = flipFirstByte(res.Ciphertext)
	case TamperWrongAlgorithm:
		res.Algorithm = "AEAD_SM4_GCM"
	}
	return encodeJSON(envelope{ID: n.eventID, CreateTime: wxTime(now), ResourceType: "encrypt-resource",
		EventType: n.eventType, Summary: n.summary, Resource: res}), nil
}

// seal encrypts plaintext with AEAD_AES_256_GCM: a 12-character nonce used
// as raw bytes, AAD = the original type, ciphertext = base64(ct‖tag).
func seal(key []byte, originalType string, plaintext []byte) (resource, error) {
	block, err := aes.NewCipher(key)
	if err != nil || len(key) != apiV3KeySize {
		return resource{}, fmt.Errorf("paysandbox: merchant has no valid APIv3 key")
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return resource{}, err
	}
	nonce := randomString(gcm.NonceSize())
	sealed := gcm.Seal(nil, []byte(nonce), plaintext, []byte(originalType))
	return resource{OriginalType: originalType, Algorithm: "AEAD_AES_256_GCM",
		Ciphertext: base64.StdEncoding.EncodeToString(sealed), AssociatedData: originalType, Nonce: nonce}, nil
}

func flipFirstByte(b64 string) string {
	raw, _ := base64.StdEncoding.DecodeString(b64)
	raw[0] ^= 0x01
	return base64.StdEncoding.EncodeToString(raw)
}
