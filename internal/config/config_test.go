package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestPrecedenceFlagThenEnvThenFileThenDefault(t *testing.T) {
	file := filepath.Join(t.TempDir(), "kaidian.conf")
	os.WriteFile(file, []byte("# comment\nKAIDIAN_ADDR=0.0.0.0:1\nKAIDIAN_LOG_LEVEL=debug\nKAIDIAN_DATA=\"/from/file\"\n"), 0o600)
	c, err := Load("serve", []string{"--config", file, "--addr", "127.0.0.1:9"}, env(map[string]string{"KAIDIAN_LOG_LEVEL": "warn"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9" || c.LogLevel != "warn" || c.DataDir != "/from/file" || c.ShutdownTimeout != 20*time.Second {
		t.Fatalf("got %+v", c)
	}
	if c.DatabaseURL() != filepath.Join("/from/file", "kaidian.db") {
		t.Fatalf("default database: %s", c.DatabaseURL())
	}
}

func TestBadSettingsAreRejected(t *testing.T) {
	for _, args := range [][]string{{"--log-level", "loud"}, {"--trust-proxy", "maybe"}, {"--shutdown-timeout", "-1s"}, {"--config", "/no/such/file"}, {"--nope"}} {
		if _, err := Load("serve", args, env(nil)); err == nil {
			t.Errorf("%v was accepted", args)
		}
	}
}

func TestRedactedHidesThePassword(t *testing.T) {
	c, _ := Load("serve", []string{"--db", "postgres://kaidian:hunter2@db:5432/k", "--secret-key", "abc"}, env(nil))
	r := c.Redacted()
	if s := r["db"].(string); strings.Contains(s, "hunter2") || !strings.Contains(s, "@db:5432") {
		t.Fatalf("redacted db: %s", s)
	}
	if r["secret_key_set"] != true {
		t.Fatal("secret_key_set")
	}
}

// --trust-proxy is a switch: alone it turns the setting on, and it never
// swallows the argument after it.
func TestTrustProxyIsASwitch(t *testing.T) {
	c, err := Load("serve", []string{"--trust-proxy", "--addr", "127.0.0.1:9"}, env(nil))
	if err != nil || !c.TrustProxy || c.Addr != "127.0.0.1:9" {
		t.Fatalf("--trust-proxy alone: %+v %v", c, err)
	}
	if c, err := Load("serve", []string{"--trust-proxy=false"}, env(map[string]string{"KAIDIAN_TRUST_PROXY": "true"})); err != nil || c.TrustProxy {
		t.Fatalf("--trust-proxy=false over the environment: %v %v", c.TrustProxy, err)
	}
	if c, err := Load("serve", nil, env(map[string]string{"KAIDIAN_TRUST_PROXY": "true"})); err != nil || !c.TrustProxy {
		t.Fatalf("KAIDIAN_TRUST_PROXY=true: %v %v", c.TrustProxy, err)
	}
}

func TestUnknownKeysAreReported(t *testing.T) {
	file := filepath.Join(t.TempDir(), "kaidian.conf")
	os.WriteFile(file, []byte("KAIDIAN_ADDR=0.0.0.0:1\nKAIDIAN_PUBLIK_URL=https://shop.example.com\n"), 0o600)
	c, err := Load("serve", []string{"--config", file}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "KAIDIAN_PUBLIK_URL") {
		t.Fatalf("file warnings: %q", c.Warnings)
	}
	got := UnknownVariables([]string{"KAIDIAN_ADDR=x", "KAIDIAN_METRIC_TOKEN=y", "KAIDIAN_TEST_POSTGRES=z", "HOME=/root", "KAIDIAN_CONFIG=f"})
	if len(got) != 1 || !strings.Contains(got[0], "KAIDIAN_METRIC_TOKEN") {
		t.Fatalf("environment warnings: %q", got)
	}
}

func TestTLSCertAndKeyGoTogether(t *testing.T) {
	if _, err := Load("serve", []string{"--tls-cert", "cert.pem"}, env(nil)); err == nil {
		t.Fatal("a certificate without its key was accepted")
	}
}

func TestBlobStorageSettings(t *testing.T) {
	c, err := Load("serve", []string{"--data", "/srv/k", "--s3-endpoint", "oss-cn-hangzhou.aliyuncs.com", "--s3-bucket", "shop",
		"--s3-path-style", "--s3-public-url", "https://cdn.example.com/"}, env(map[string]string{"KAIDIAN_S3_SECRET_KEY": "s3-secret-value"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.S3PathStyle || !c.S3UseSSL || c.S3SecretKey != "s3-secret-value" || c.S3PublicURL != "https://cdn.example.com" ||
		c.BlobFolder() != filepath.Join("/srv/k", "blobs") {
		t.Fatalf("got %+v", c)
	}
	if r := c.Redacted(); strings.Contains(strings.Join(strings.Fields(fmt.Sprint(r)), " "), "s3-secret-value") || r["s3_secret_key_set"] != true {
		t.Fatalf("redacted: %v", r)
	}
	if _, err := Load("serve", []string{"--s3-endpoint", "minio:9000"}, env(nil)); err == nil {
		t.Fatal("an endpoint without a bucket was accepted")
	}
}
