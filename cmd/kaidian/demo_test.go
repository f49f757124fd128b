package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDemoWalkthroughPaysAnOrder runs `kaidian demo` and follows its
// walkthrough: sandbox login, search, order, pay through the WeChat Pay
// sandbox, and the order is paid.
func TestDemoWalkthroughPaysAnOrder(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"demo", "--data", t.TempDir(), "--addr", "127.0.0.1:0"}, out, noenv) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo exited with %v", err)
		}
	}()
	base := waitForBase(t, out)
	w := walker{t: t, base: base}

	code := w.call("POST", "/wechat/sandbox/login-code", "", nil, `{"appid":"wxd0c0ffee00000001"}`)["code"].(string)
	token := w.call("POST", "/api/v1/auth/login", "", nil, fmt.Sprintf(`{"code":%q}`, code))["token"].(string)
	auth := map[string]string{"Authorization": "Bearer " + token}
	found := w.call("GET", "/api/v1/products?q=%E8%BF%9E%E8%A1%A3%E8%A3%99", "", nil, "") // 连衣裙
	if n := len(found["items"].([]any)); n != 3 {
		t.Fatalf("search found %d dresses", n)
	}
	order := w.call("POST", "/api/v1/orders", "demo-order-0001", auth, `{"items":[{"sku_id":1,"quantity":1}],
		"address":{"name":"张三","phone":"13800138000","province":"浙江省","city":"杭州市","district":"西湖区","detail":"文三路 1 号"}}`)
	id := int64(order["id"].(float64))
	params := w.call("POST", fmt.Sprintf("/api/v1/orders/%d/pay", id), "", auth, "")
	p, _ := json.Marshal(params)
	paid := w.call("POST", "/wechatpay/sandbox/pay/request-payment", "", nil, fmt.Sprintf(`{"appid":"wxd0c0ffee00000001","params":%s}`, p))
	if paid["delivered"] != true {
		t.Fatalf("the sandbox did not deliver the notification: %v", paid)
	}
	if got := w.call("GET", fmt.Sprintf("/api/v1/orders/%d", id), "", auth, ""); got["status"] != "paid" {
		t.Fatalf("the demo order is %v", got["status"])
	}
}

func waitForBase(t *testing.T, out *lockedBuffer) string {
	re := regexp.MustCompile(`running at (http://\S+)`)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("the demo did not start: %s", out.String())
	return ""
}

type walker struct {
	t    *testing.T
	base string
}

func (w walker) call(method, path, key string, headers map[string]string, body string) map[string]any {
	w.t.Helper()
	req, _ := http.NewRequest(method, w.base+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Appid", "wxd0c0ffee00000001")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var m map[string]any
	if res.StatusCode >= 300 || json.Unmarshal(data, &m) != nil {
		w.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, data)
	}
	return m
}
