package paysandbox

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Failure is a fault injected by FailNext.
type Failure string

// Failures.
const (
	FailSystemError Failure = "SYSTEM_ERROR"      // HTTP 500 {"code":"SYSTEM_ERROR"}
	FailRateLimited Failure = "FREQUENCY_LIMITED" // HTTP 429 {"code":"FREQUENCY_LIMITED"}
	FailTimeout     Failure = "TIMEOUT"           // no answer until the client gives up (or Close)
)

var failures = []Failure{FailSystemError, FailRateLimited, FailTimeout}

// FailNext makes the next request to path fail with f, before it is
// authenticated or changes anything. path is a request path
// ("/v3/pay/transactions/out-trade-no/T1") or a route pattern
// ("/v3/pay/transactions/out-trade-no/{out_trade_no}", see the package
// doc) matching any such request. Calls queue.
func (s *Sandbox) FailNext(path string, f Failure) error {
	if !slices.Contains(failures, f) {
		return fmt.Errorf("paysandbox: unknown failure %q", f)
	}
	path = "/" + strings.Trim(path, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[path] = append(s.failures[path], f)
	return nil
}

// popFailure takes the next failure queued for r's path or route pattern.
func (s *Sandbox) popFailure(r *http.Request) Failure {
	_, pattern, _ := strings.Cut(r.Pattern, " ")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, key := range []string{r.URL.Path, pattern} {
		if queue := s.failures[key]; len(queue) > 0 {
			f := pop(&queue)
			s.failures[key] = queue
			return f
		}
	}
	return ""
}

// admit reads the body and applies FailNext. It returns false if it has
// answered the request itself.
func (s *Sandbox) admit(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		s.writeSigned(w, apiError(http.StatusBadRequest, "PARAM_ERROR", "请求体读取失败或超过 1 MiB"), s.keyMode(), "")
		return nil, false
	}
	f := s.popFailure(r)
	switch f {
	case "":
		return body, true
	case FailRateLimited:
		s.writeSigned(w, apiError(http.StatusTooManyRequests, "FREQUENCY_LIMITED", "频率超限"), s.keyMode(), "")
		return nil, false
	case FailTimeout:
		s.hang(r.Context())
	}
	s.writeSigned(w, apiError(http.StatusInternalServerError, "SYSTEM_ERROR", "系统错误"), s.keyMode(), "")
	return nil, false
}

// hang blocks until the client gives up, the sandbox closes or the hang
// limit passes.
func (s *Sandbox) hang(ctx context.Context) {
	t := time.NewTimer(s.hangMax)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-s.closed:
	case <-t.C:
	}
}
