package errs

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestStoredMessageCutsOnARuneBoundary: a long Chinese message is cut to at
// most StoredMessageLen bytes and stays valid UTF-8 (PostgreSQL refuses
// anything else).
func TestStoredMessageCutsOnARuneBoundary(t *testing.T) {
	for pad := 0; pad < 3; pad++ {
		msg := strings.Repeat("a", pad) + strings.Repeat("退款失败", 100) // 3 bytes a character
		got := StoredMessage(errors.New(msg))
		if len(got) > StoredMessageLen || len(got) < StoredMessageLen-3 || !utf8.ValidString(got) || !strings.HasPrefix(msg, got) {
			t.Fatalf("pad %d: %d bytes, valid %v", pad, len(got), utf8.ValidString(got))
		}
	}
	if got := StoredMessage(errors.New("short")); got != "short" {
		t.Fatalf("short message changed: %q", got)
	}
}
