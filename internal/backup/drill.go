package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kaidian/kaidian/internal/platform/blob"
)

// ErrNoBackup: there is no backup file to drill.
var ErrNoBackup = errors.New("no backup file to drill")

// Drill restores the newest backup file (from the folder, or from the
// off-site copy when the folder has none) into a scratch database, which
// checks every seal, every table's count and sum against the backup and
// the foreign keys, and records how long the restore took (RTO) and how
// old the restored data was (RPO at that moment). The scratch database is
// dropped afterwards; files are checked against their hashes, not written.
func (s *Service) Drill(ctx context.Context) (Run, error) {
	start := s.now()
	run := Run{Kind: "drill", StartedAt: start}
	path, name, cleanup, err := s.newestBackup(ctx)
	run.File = name
	if err != nil {
		return s.record(ctx, run, start, err)
	}
	defer cleanup()
	openFile := func() (io.ReadCloser, error) { return os.Open(path) }
	scratch, drop, err := s.db.Scratch(ctx)
	if err != nil {
		return s.record(ctx, run, start, err)
	}
	defer drop()
	res, err := Restore(ctx, openFile, scratch, RestoreOptions{Key: s.policy.Key})
	m := res.Manifest
	run.Schema, run.Tables, run.Rows, run.Blobs, run.BlobBytes = m.Schema, len(m.Tables), m.Rows, m.Blobs, m.BlobBytes
	if err == nil {
		run.TookMS = max(res.Took.Milliseconds(), 1)
		run.DataAgeMS = start.Sub(m.CreatedAt).Milliseconds()
	}
	return s.record(ctx, run, start, err)
}

// newestBackup finds the newest backup in the folder, or else the newest
// off-site, copied to a temporary file (a restore reads it twice) that
// cleanup removes.
func (s *Service) newestBackup(ctx context.Context) (path, name string, cleanup func(), err error) {
	names, err := s.backupFiles()
	if err != nil {
		return "", "", nil, err
	}
	if len(names) > 0 {
		return filepath.Join(s.policy.Dir, names[0]), names[0], func() {}, nil
	}
	return s.newestOffsite(ctx)
}

func (s *Service) newestOffsite(ctx context.Context) (path, name string, cleanup func(), err error) {
	lister, ok := s.policy.Offsite.(blob.Lister)
	if !ok {
		return "", "", nil, ErrNoBackup
	}
	var names []string
	if err := lister.List(ctx, offsitePrefix, func(key string, _ int64) error {
		names = append(names, key[len(offsitePrefix):])
		return nil
	}); err != nil {
		return "", "", nil, err
	}
	if len(names) == 0 {
		return "", "", nil, ErrNoBackup
	}
	sortNewestFirst(names)
	name = names[0]
	rc, _, err := s.policy.Offsite.Get(ctx, offsitePrefix+name)
	if err != nil {
		return "", name, nil, err
	}
	defer rc.Close()
	tmp, err := os.CreateTemp("", "kaidian-drill-*.kdbk")
	if err != nil {
		return "", name, nil, err
	}
	_, err = io.Copy(tmp, rc)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", name, nil, fmt.Errorf("off-site copy of %s: %w", name, err)
	}
	return tmp.Name(), name, func() { os.Remove(tmp.Name()) }, nil
}
