package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/demo"
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

// TestDemoFollowsTheREADMEWalkthrough runs `kaidian demo` and follows its
// walkthrough (the README shows the same commands: demo.Steps) exactly as
// a reader would: each request with only the step's headers and body, each
// <placeholder> filled from an earlier answer, each answer 2xx and showing
// what the step says (the order paid, the refund succeeded a moment later,
// the comment held by a seeded rule).
func TestDemoFollowsTheREADMEWalkthrough(t *testing.T) {
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
	if !strings.Contains(out.String(), "--addr") {
		t.Error("the demo's printout does not say how to pick another port")
	}
	saved := map[string]string{}
	fill := func(s string) string {
		for k, v := range saved {
			s = strings.ReplaceAll(s, k, v)
		}
		return s
	}
	for _, st := range demo.Steps() {
		for _, line := range strings.Split(st.Curl(base), "\n") {
			if !strings.Contains(out.String(), line) {
				t.Errorf("the demo does not print step %q as %s", st.Note, st.Curl(base))
			}
		}
		answer := runStep(t, base, st, fill)
		for deadline := time.Now().Add(15 * time.Second); st.Later && !shows(answer, st.Expect) && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
			answer = runStep(t, base, st, fill)
		}
		if !shows(answer, st.Expect) {
			t.Fatalf("step %q: the answer does not show %v: %s", st.Note, st.Expect, answer)
		}
		for placeholder, field := range st.Saves {
			v := lookup(answer, field)
			if v == nil {
				t.Fatalf("step %q: no %q in %s", st.Note, field, answer)
			}
			saved[placeholder] = jsonText(v)
		}
	}
}

// runStep sends one step as curl would and returns its JSON answer.
func runStep(t *testing.T, base string, st demo.Step, fill func(string) string) []byte {
	t.Helper()
	u, err := url.Parse(base + fill(st.Path))
	if err != nil {
		t.Fatal(err)
	}
	u.RawQuery = u.Query().Encode()
	req, _ := http.NewRequest(st.Method, u.String(), strings.NewReader(fill(st.Body)))
	if st.Body != "" { // curl --json
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
	}
	for _, h := range st.Headers {
		name, value, _ := strings.Cut(fill(h), ": ")
		req.Header.Set(name, value)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 || !json.Valid(data) {
		t.Fatalf("step %q: %s %s: %d %s", st.Note, st.Method, u, res.StatusCode, data)
	}
	return data
}

// lookup finds a dotted path (items.0.status) in a JSON answer; "" is the
// whole answer.
func lookup(answer []byte, path string) any {
	var v any
	_ = json.Unmarshal(answer, &v)
	if path == "" {
		return v
	}
	for _, key := range strings.Split(path, ".") {
		switch c := v.(type) {
		case map[string]any:
			v = c[key]
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

func shows(answer []byte, expect map[string]string) bool {
	for path, want := range expect {
		if v := lookup(answer, path); v == nil || jsonText(v) != want {
			return false
		}
	}
	return true
}

// jsonText is a value as it is pasted into a later command: strings bare,
// numbers and objects as JSON.
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
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
