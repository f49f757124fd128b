package paysandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// control handles one /sandbox/pay/ endpoint: JSON body in, value out.
type control func(s *Sandbox, ctx context.Context, body []byte) (any, error)

var controls = map[string]control{
	"/sandbox/pay/merchant":             (*Sandbox).ctlMerchant,
	"/sandbox/pay/sub-merchant":         (*Sandbox).ctlSubMerchant,
	"/sandbox/pay/platform":             (*Sandbox).ctlPlatform,
	"/sandbox/pay/key-mode":             (*Sandbox).ctlKeyMode,
	"/sandbox/pay/rotate-platform-cert": (*Sandbox).ctlRotatePlatformCert,
	"/sandbox/pay/pay":                  (*Sandbox).ctlPay,
	"/sandbox/pay/request-payment":      (*Sandbox).ctlRequestPayment,
	"/sandbox/pay/renotify":             (*Sandbox).ctlRenotify,
	"/sandbox/pay/complete-refund":      (*Sandbox).ctlCompleteRefund,
	"/sandbox/pay/tamper-next":          (*Sandbox).ctlTamperNext,
	"/sandbox/pay/tamper-next-response": (*Sandbox).ctlTamperNextResponse,
	"/sandbox/pay/drop-next":            (*Sandbox).ctlDropNext,
	"/sandbox/pay/fail-next":            (*Sandbox).ctlFailNext,
	"/sandbox/pay/corrupt-next-bill":    (*Sandbox).ctlCorruptNextBill,
}

func (s *Sandbox) serveControl(w http.ResponseWriter, r *http.Request) {
	handle, ok := controls[r.URL.Path]
	if !ok {
		writeJSON(w, http.StatusNotFound, reply{"error": "no such sandbox control"})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, reply{"error": "use POST"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, reply{"error": err.Error()})
		return
	}
	// Notifications are WeChat's business: they go on if the caller leaves.
	out, err := handle(s, context.WithoutCancel(r.Context()), body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, reply{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(encodeJSON(v))
}

// decodeControl decodes a control body; an empty body is an empty object.
func decodeControl(body []byte, v any) error {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("bad JSON: %w", err)
	}
	return nil
}

func (s *Sandbox) ctlMerchant(_ context.Context, body []byte) (any, error) {
	var req struct {
		MchID string `json:"mchid"`
		AppID string `json:"appid"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	return s.NewMerchant(req.MchID, req.AppID)
}

func (s *Sandbox) ctlPlatform(context.Context, []byte) (any, error) { return s.Platform(), nil }

func (s *Sandbox) ctlDropNext(context.Context, []byte) (any, error) {
	s.DropNextNotification()
	return reply{}, nil
}

func (s *Sandbox) ctlCorruptNextBill(context.Context, []byte) (any, error) {
	s.CorruptNextBill()
	return reply{}, nil
}

func (s *Sandbox) ctlKeyMode(_ context.Context, body []byte) (any, error) {
	var req struct {
		Mode KeyMode `json:"mode"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	if req.Mode != KeyModeCertificate && req.Mode != KeyModePublicKey {
		return nil, fmt.Errorf("mode must be %q or %q", KeyModeCertificate, KeyModePublicKey)
	}
	s.SetKeyMode(req.Mode)
	return reply{}, nil
}

func (s *Sandbox) ctlSubMerchant(_ context.Context, body []byte) (any, error) {
	var req struct {
		SpMchID   string   `json:"sp_mchid"`
		SubMchID  string   `json:"sub_mchid"`
		SubAppIDs []string `json:"sub_appids"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	return reply{}, s.AddSubMerchant(req.SpMchID, req.SubMchID, req.SubAppIDs...)
}

func (s *Sandbox) ctlPay(ctx context.Context, body []byte) (any, error) {
	var req struct {
		MchID      string `json:"mchid"`
		OutTradeNo string `json:"out_trade_no"`
		PrepayID   string `json:"prepay_id"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	if req.PrepayID != "" {
		return s.PayPrepay(ctx, req.PrepayID)
	}
	return s.Pay(ctx, req.MchID, req.OutTradeNo)
}

func (s *Sandbox) ctlRequestPayment(ctx context.Context, body []byte) (any, error) {
	var req struct {
		AppID  string        `json:"appid"`
		Params PaymentParams `json:"params"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	return s.PayWithParams(ctx, req.AppID, req.Params)
}

func (s *Sandbox) ctlRenotify(ctx context.Context, body []byte) (any, error) {
	var req struct {
		MchID      string `json:"mchid"`
		OutTradeNo string `json:"out_trade_no"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	return s.Renotify(ctx, req.MchID, req.OutTradeNo)
}

func (s *Sandbox) ctlCompleteRefund(ctx context.Context, body []byte) (any, error) {
	var req struct {
		MchID       string `json:"mchid"`
		OutRefundNo string `json:"out_refund_no"`
		Status      string `json:"status"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	return s.CompleteRefund(ctx, req.MchID, req.OutRefundNo, req.Status)
}

func (s *Sandbox) ctlTamperNext(_ context.Context, body []byte) (any, error) {
	mode, err := decodeMode(body)
	if err != nil {
		return nil, err
	}
	return reply{}, s.TamperNextNotification(mode)
}

func (s *Sandbox) ctlTamperNextResponse(_ context.Context, body []byte) (any, error) {
	mode, err := decodeMode(body)
	if err != nil {
		return nil, err
	}
	return reply{}, s.TamperNextResponse(mode)
}

func decodeMode(body []byte) (Tamper, error) {
	var req struct {
		Mode Tamper `json:"mode"`
	}
	if err := decodeControl(body, &req); err != nil {
		return "", err
	}
	if req.Mode == "" {
		return "", errors.New(`need {"mode": …}`)
	}
	return req.Mode, nil
}

func (s *Sandbox) ctlFailNext(_ context.Context, body []byte) (any, error) {
	var req struct {
		Path    string  `json:"path"`
		Failure Failure `json:"failure"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	if req.Path == "" {
		return nil, errors.New("need a path")
	}
	return reply{}, s.FailNext(req.Path, req.Failure)
}
