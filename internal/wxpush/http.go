package wxpush

import (
	"io"
	"net/http"
	"strings"

	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves the push URL.
type Handlers struct{ Svc *Service }

const maxPushBytes = 1 << 20

// Routes registers the push URL: set it, with the Token and
// EncodingAESKey, in the mini program's admin (开发管理 → 消息推送).
func (h *Handlers) Routes(api *httpx.API) {
	errors := map[int][]string{400: {"push_malformed"}, 401: {"push_signature_invalid"}, 404: {"shop_not_found"}, 409: {"push_not_configured"}}
	api.Add(httpx.Route{Method: "GET", Path: "/webhooks/wechat/{id}/push", Tag: "webhooks", Access: httpx.Public, Errors: errors,
		Summary: "WeChat's check of shop {id}'s message-push URL: answers echostr (text/plain) when the signature verifies with the shop's push Token",
		Query:   []httpx.Param{{Name: "signature", Type: "string"}, {Name: "timestamp", Type: "string"}, {Name: "nonce", Type: "string"}, {Name: "echostr", Type: "string"}},
		Handler: h.verify})
	api.Add(httpx.Route{Method: "POST", Path: "/webhooks/wechat/{id}/push", Tag: "webhooks", Access: httpx.Public, Errors: errors,
		Summary:   "WeChat's message pushes for shop {id} (JSON or XML; plain, compatible or safe mode): answers success (text/plain) once handled; 5xx makes WeChat repeat it",
		BodyLimit: maxPushBytes, Handler: h.receive})
}

func (h *Handlers) verify(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	echo, err := h.Svc.VerifyURL(r.Context(), id, r.URL.Query())
	if err != nil {
		return err
	}
	return writeText(w, echo)
}

func (h *Handlers) receive(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return errs.E(errs.TooLarge, "body_too_large", "a push is at most 1 MiB")
	}
	ack, err := h.Svc.Receive(r.Context(), id, r.URL.Query(), body)
	if err != nil {
		return err
	}
	return writeText(w, ack)
}

func writeText(w http.ResponseWriter, s string) error {
	ctype := "text/plain; charset=utf-8"
	if strings.HasPrefix(s, "{") {
		ctype = "application/json"
	}
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(http.StatusOK)
	_, err := io.WriteString(w, s)
	return err
}
