package backup

import "time"

// SetClock replaces the service's clock (tests).
func SetClock(s *Service, now func() time.Time) { s.now = now }
