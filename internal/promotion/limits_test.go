package promotion

import (
	"testing"
	"time"
)

// TestAddressLimiterWaitsForTheNextSecond: beyond perSecond claims from one
// address, the wait is exactly what is left of the current second.
func TestAddressLimiterWaitsForTheNextSecond(t *testing.T) {
	var l addressLimiter
	now := time.Date(2026, 12, 6, 10, 0, 0, 250*int(time.Millisecond), time.UTC)
	for i := range 2 {
		if w := l.wait("1.2.3.4", 2, now); w != 0 {
			t.Fatalf("claim %d within the limit waits %v", i+1, w)
		}
	}
	if w := l.wait("1.2.3.4", 2, now); w != 750*time.Millisecond {
		t.Fatalf("third claim in the second waits %v, want 750ms", w)
	}
	if w := l.wait("5.6.7.8", 2, now); w != 0 {
		t.Fatalf("another address waits %v", w)
	}
	if w := l.wait("1.2.3.4", 2, now.Add(750*time.Millisecond)); w != 0 {
		t.Fatalf("the next second still waits %v", w)
	}
}
