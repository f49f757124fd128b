package config

import (
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
