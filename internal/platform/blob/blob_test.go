package blob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/kaidian/kaidian/internal/platform/blob"
)

// newS3 starts an in-process S3 server (gofakes3, memory backend) with a
// bucket and returns a store on it.
func newS3(t *testing.T, public string) *blob.S3 {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("kaidian"); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(ts.Close)
	s, err := blob.NewS3(blob.S3Config{Endpoint: strings.TrimPrefix(ts.URL, "http://"), Bucket: "kaidian",
		Region: "us-east-1", AccessKey: "ak", SecretKey: "sk", PathStyle: true, PublicURL: public})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// stores runs the conformance suite on each implementation.
func stores(t *testing.T) map[string]blob.Store {
	local, err := blob.NewLocal(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]blob.Store{"local": local, "s3": newS3(t, "")}
}

func TestStoreConformance(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			key := "shop/1/abc123.png"
			if ok, err := s.Exists(ctx, key); err != nil || ok {
				t.Fatalf("exists before put: %v %v", ok, err)
			}
			if _, _, err := s.Get(ctx, key); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("get before put: %v, want ErrNotFound", err)
			}
			data := bytes.Repeat([]byte("kaidian"), 1000)
			if err := s.Put(ctx, key, "image/png", bytes.NewReader(data), int64(len(data))); err != nil {
				t.Fatal(err)
			}
			if ok, err := s.Exists(ctx, key); err != nil || !ok {
				t.Fatalf("exists after put: %v %v", ok, err)
			}
			rc, info, err := s.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(got, data) || info.ContentType != "image/png" || info.Size != int64(len(data)) || info.ETag == "" || info.ModTime.IsZero() {
				t.Fatalf("get: %d bytes, info %+v", len(got), info)
			}
			// Replacing keeps the latest bytes.
			if err := s.Put(ctx, key, "image/png", strings.NewReader("new"), 3); err != nil {
				t.Fatal(err)
			}
			rc, _, _ = s.Get(ctx, key)
			got, _ = io.ReadAll(rc)
			rc.Close()
			if string(got) != "new" {
				t.Fatalf("after replace: %q", got)
			}
			// A reader that does not give the announced size stores nothing.
			for _, bad := range []struct {
				body string
				size int64
			}{{"short", 10}, {"too long for this", 3}} {
				k := "shop/1/size-" + bad.body[:3]
				if err := s.Put(ctx, k, "text/plain", strings.NewReader(bad.body), bad.size); !errors.Is(err, blob.ErrSize) {
					t.Errorf("put %q as %d bytes: %v, want ErrSize", bad.body, bad.size, err)
				}
				if ok, _ := s.Exists(ctx, k); ok {
					t.Errorf("a put of the wrong size left %s", k)
				}
			}
			for _, k := range []string{"", "/etc/passwd", "../x", "a/../../x", "a//b", "a/.hidden", "a\\b", "a b", "é", strings.Repeat("a", 513), "a/./b", "a/"} {
				if err := s.Put(ctx, k, "text/plain", strings.NewReader("x"), 1); !errors.Is(err, blob.ErrBadKey) {
					t.Errorf("put %q: %v, want ErrBadKey", k, err)
				}
				if _, _, err := s.Get(ctx, k); !errors.Is(err, blob.ErrBadKey) {
					t.Errorf("get %q: %v, want ErrBadKey", k, err)
				}
				if err := s.Delete(ctx, k); !errors.Is(err, blob.ErrBadKey) {
					t.Errorf("delete %q: %v, want ErrBadKey", k, err)
				}
			}
			if err := s.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
			if ok, _ := s.Exists(ctx, key); ok {
				t.Fatal("exists after delete")
			}
			if err := s.Delete(ctx, key); err != nil {
				t.Fatalf("deleting a missing blob: %v", err)
			}
		})
	}
}

func TestLocalStaysInsideItsFolder(t *testing.T) {
	dir := t.TempDir()
	l, err := blob.NewLocal(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := l.Put(ctx, "../outside", "text/plain", strings.NewReader("x"), 1); !errors.Is(err, blob.ErrBadKey) {
		t.Fatalf("put ../outside: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "outside")); err == nil {
		t.Fatal("a file was written outside the folder")
	}
	if err := l.Put(ctx, "a/b.txt", "text/plain", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(filepath.Join(dir, "blobs", "a"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestS3URLs(t *testing.T) {
	ctx := context.Background()
	s := newS3(t, "")
	if err := s.Put(ctx, "shop/1/x.txt", "text/plain", strings.NewReader("hello"), 5); err != nil {
		t.Fatal(err)
	}
	u, err := s.URL(ctx, "shop/1/x.txt", time.Minute)
	if err != nil || !strings.Contains(u, "X-Amz-Signature=") {
		t.Fatalf("presigned: %q %v", u, err)
	}
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "hello" {
		t.Fatalf("GET presigned: %d %q", res.StatusCode, body)
	}
	pub := newS3(t, "https://cdn.example.com/")
	if u, _ := pub.URL(ctx, "shop/1/x.txt", time.Minute); u != "https://cdn.example.com/shop/1/x.txt" {
		t.Fatalf("public URL: %q", u)
	}
}

// TestListGivesEveryBlobUnderAPrefix: both stores list their blobs by
// prefix with sizes, never a sidecar, and stop at fn's error.
func TestListGivesEveryBlobUnderAPrefix(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			for _, k := range []string{"shop/1/a.png", "shop/1/sub/b.jpg", "shop/2/c.png", "backups/x.kdbk"} {
				if err := s.Put(ctx, k, "image/png", strings.NewReader(k), int64(len(k))); err != nil {
					t.Fatal(err)
				}
			}
			l := s.(blob.Lister)
			got := map[string]int64{}
			if err := l.List(ctx, "shop/", func(key string, size int64) error { got[key] = size; return nil }); err != nil {
				t.Fatal(err)
			}
			want := map[string]int64{"shop/1/a.png": 12, "shop/1/sub/b.jpg": 16, "shop/2/c.png": 12}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("listed %v, want %v", got, want)
			}
			stop := errors.New("stop")
			n := 0
			if err := l.List(ctx, "", func(string, int64) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
				t.Fatalf("stopping: %v after %d", err, n)
			}
		})
	}
}
