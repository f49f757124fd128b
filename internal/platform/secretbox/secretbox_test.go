package secretbox

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key, err := LoadOrCreateKeyFile(filepath.Join(t.TempDir(), "k"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := New(key)
	sealed, err := b.Seal("app-secret-123")
	if err != nil || strings.Contains(sealed, "app-secret") {
		t.Fatalf("sealed %q (%v) shows the plain text", sealed, err)
	}
	if got, err := b.Open(sealed); err != nil || got != "app-secret-123" {
		t.Fatalf("open = %q, %v", got, err)
	}
	if s, _ := b.Seal(""); s != "" {
		t.Fatal("empty must stay empty")
	}
	other, _ := New(make([]byte, 32))
	if _, err := other.Open(sealed); err == nil {
		t.Fatal("another key must not open it")
	}
	tampered := sealed[:len(sealed)-2] + "AA"
	if _, err := b.Open(tampered); err == nil {
		t.Fatal("a tampered value must not open")
	}
}

func TestKeyFileIsReused(t *testing.T) {
	p := filepath.Join(t.TempDir(), "k")
	a, _ := LoadOrCreateKeyFile(p)
	b, _ := LoadOrCreateKeyFile(p)
	if string(a) != string(b) {
		t.Fatal("a second load must return the same key")
	}
}
