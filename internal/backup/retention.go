package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/blob"
)

// Retention keeps, of the backups, the newest of each of the last Daily
// days, Weekly ISO weeks and Monthly months (days in Asia/Shanghai), and
// always the newest backup of all.
type Retention struct{ Daily, Weekly, Monthly int }

// DefaultRetention is 7 daily, 4 weekly and 12 monthly backups.
var DefaultRetention = Retention{Daily: 7, Weekly: 4, Monthly: 12}

// ParseRetention reads "7d,4w,12m" (any of the three, in any order).
func ParseRetention(s string) (Retention, error) {
	var r Retention
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if len(part) < 2 {
			return r, fmt.Errorf("retention %q: use counts like 7d,4w,12m", s)
		}
		n, err := strconv.Atoi(part[:len(part)-1])
		if err != nil || n < 0 || n > 1000 {
			return r, fmt.Errorf("retention %q: %q is not a count from 0 to 1000", s, part)
		}
		switch part[len(part)-1] {
		case 'd':
			r.Daily = n
		case 'w':
			r.Weekly = n
		case 'm':
			r.Monthly = n
		default:
			return r, fmt.Errorf("retention %q: %q must end in d, w or m", s, part)
		}
	}
	if r.Daily+r.Weekly+r.Monthly == 0 {
		return r, fmt.Errorf("retention %q keeps nothing", s)
	}
	return r, nil
}

var shanghai = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}()

// keep returns which of the names (newest first) the retention keeps.
func (r Retention) keep(names []string) map[string]bool {
	kept := map[string]bool{}
	if len(names) > 0 {
		kept[names[0]] = true
	}
	buckets := []struct {
		n   int
		key func(time.Time) string
	}{
		{r.Daily, func(t time.Time) string { return t.Format("2006-01-02") }},
		{r.Weekly, func(t time.Time) string { y, w := t.ISOWeek(); return fmt.Sprintf("%d-W%02d", y, w) }},
		{r.Monthly, func(t time.Time) string { return t.Format("2006-01") }},
	}
	for _, b := range buckets {
		seen := map[string]bool{}
		for _, name := range names {
			t, ok := timeOf(name)
			if !ok {
				kept[name] = true // not ours to judge
				continue
			}
			k := b.key(t.In(shanghai))
			if !seen[k] && len(seen) < b.n {
				seen[k] = true
				kept[name] = true
			}
		}
	}
	return kept
}

// prune deletes the backups the retention does not keep, in the folder
// and off-site.
func (s *Service) prune(ctx context.Context) error {
	names, err := s.backupFiles()
	if err != nil {
		return err
	}
	kept := s.policy.Keep.keep(names)
	for _, n := range names {
		if !kept[n] {
			if err := os.Remove(filepath.Join(s.policy.Dir, n)); err != nil {
				return err
			}
		}
	}
	lister, ok := s.policy.Offsite.(blob.Lister)
	if !ok {
		return nil
	}
	var remote []string
	err = lister.List(ctx, offsitePrefix, func(key string, _ int64) error {
		remote = append(remote, strings.TrimPrefix(key, offsitePrefix))
		return nil
	})
	if err != nil {
		return fmt.Errorf("off-site listing: %w", err)
	}
	sortNewestFirst(remote)
	kept = s.policy.Keep.keep(remote)
	for _, n := range remote {
		if !kept[n] {
			if err := s.policy.Offsite.Delete(ctx, offsitePrefix+n); err != nil {
				return fmt.Errorf("off-site prune: %w", err)
			}
		}
	}
	return nil
}
