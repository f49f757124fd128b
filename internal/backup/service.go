package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/blob"
	"github.com/kaidian/kaidian/internal/platform/db"
)

// Policy is how a deployment backs itself up.
type Policy struct {
	Dir     string     // local folder of backup files
	Key     []byte     // the backup key (32 bytes), kept apart from the data
	Offsite blob.Store // where each file is copied (an S3-compatible bucket); nil: nowhere
	Keep    Retention
	// MaxAge is how old the newest good backup may be before Status
	// reports it stale (the freshness alarm).
	MaxAge time.Duration
	Pace   float64 // Options.Pace of every backup
}

// offsitePrefix is where backup files go in the off-site store.
const offsitePrefix = "kaidian-backups/"

// Service makes, keeps, copies and drills backups of one deployment.
type Service struct {
	db     *db.DB
	blobs  blob.Store // the deployment's files, included in each backup
	policy Policy
	app    string
	now    func() time.Time
}

// NewService returns the backup service of the database d and its files.
func NewService(d *db.DB, files blob.Store, p Policy, app string) *Service {
	return &Service{db: d, blobs: files, policy: p, app: app, now: time.Now}
}

// Run is one recorded backup or drill.
type Run struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind" enum:"backup,drill"`
	Status    string    `json:"status" enum:"ok,failed"`
	File      string    `json:"file"`
	Size      int64     `json:"size"`
	SHA256    string    `json:"sha256"`
	Schema    int       `json:"schema"`
	Tables    int       `json:"tables"`
	Rows      int64     `json:"rows"`
	Blobs     int64     `json:"blobs"`
	BlobBytes int64     `json:"blob_bytes"`
	Offsite   string    `json:"offsite" doc:"'' (none configured), copied, or the copy's error"`
	TookMS    int64     `json:"took_ms" doc:"for a drill: the restore's time (RTO)"`
	DataAgeMS int64     `json:"data_age_ms" doc:"for a drill: how old the restored data was (RPO at that moment)"`
	Error     string    `json:"error"`
	StartedAt time.Time `json:"started_at"`
}

// Backup writes a backup file to the policy's folder (a temporary name
// renamed into place once complete and synced), copies it off-site,
// applies the retention and records the run.
func (s *Service) Backup(ctx context.Context) (Run, error) {
	start := s.now()
	run := Run{Kind: "backup", StartedAt: start}
	name := fmt.Sprintf("kaidian-%s-%s.kdbk", s.db.Engine, start.UTC().Format("20060102T150405.000Z"))
	m, sum, size, err := s.writeFile(ctx, name)
	run.File, run.Size, run.SHA256 = name, size, sum
	run.Schema, run.Tables, run.Rows, run.Blobs, run.BlobBytes = m.Schema, len(m.Tables), m.Rows, m.Blobs, m.BlobBytes
	if err == nil && s.policy.Offsite != nil {
		run.Offsite = "copied"
		if cerr := s.copyOffsite(ctx, name, size); cerr != nil {
			run.Offsite = cerr.Error()
			err = cerr
		}
	}
	if err == nil {
		err = s.prune(ctx)
	}
	return s.record(ctx, run, start, err)
}

func (s *Service) writeFile(ctx context.Context, name string) (Manifest, string, int64, error) {
	if err := os.MkdirAll(s.policy.Dir, 0o700); err != nil {
		return Manifest{}, "", 0, err
	}
	tmp := filepath.Join(s.policy.Dir, "."+name+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return Manifest{}, "", 0, err
	}
	defer os.Remove(tmp) // after a successful rename there is nothing left to remove
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, h)}
	m, err := Write(ctx, s.db, cw, Options{Key: s.policy.Key, Blobs: s.blobs, App: s.app, Now: s.now, Pace: s.policy.Pace})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(s.policy.Dir, name))
	}
	return m, hex.EncodeToString(h.Sum(nil)), cw.n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (s *Service) copyOffsite(ctx context.Context, name string, size int64) error {
	f, err := os.Open(filepath.Join(s.policy.Dir, name))
	if err != nil {
		return err
	}
	defer f.Close()
	if err := s.policy.Offsite.Put(ctx, offsitePrefix+name, "application/octet-stream", f, size); err != nil {
		return fmt.Errorf("off-site copy: %w", err)
	}
	return nil
}

// record stores the run and returns it with err.
func (s *Service) record(ctx context.Context, run Run, start time.Time, err error) (Run, error) {
	run.Status = "ok"
	if err != nil {
		run.Status, run.Error = "failed", err.Error()
	}
	if run.TookMS == 0 {
		run.TookMS = s.now().Sub(start).Milliseconds()
	}
	ierr := s.db.QueryRow(ctx, `INSERT INTO backup_runs (kind, status, file, size, sha256, schema_version, tables, row_count, blobs, blob_bytes,
		offsite, took_ms, data_age_ms, error, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		run.Kind, run.Status, run.File, run.Size, run.SHA256, run.Schema, run.Tables, run.Rows, run.Blobs, run.BlobBytes,
		run.Offsite, run.TookMS, run.DataAgeMS, run.Error, start.UnixMilli()).Scan(&run.ID)
	return run, errors.Join(err, ierr)
}

// Runs lists the newest runs, newest first.
func (s *Service) Runs(ctx context.Context, limit int) ([]Run, error) {
	return db.All(ctx, s.db, scanRun, `SELECT `+runColumns+` FROM backup_runs ORDER BY id DESC LIMIT ?`, limit)
}

const runColumns = `id, kind, status, file, size, sha256, schema_version, tables, row_count, blobs, blob_bytes, offsite, took_ms, data_age_ms, error, started_at`

func scanRun(row db.Scanner) (Run, error) {
	var r Run
	var started int64
	err := row.Scan(&r.ID, &r.Kind, &r.Status, &r.File, &r.Size, &r.SHA256, &r.Schema, &r.Tables, &r.Rows, &r.Blobs, &r.BlobBytes,
		&r.Offsite, &r.TookMS, &r.DataAgeMS, &r.Error, &started)
	r.StartedAt = time.UnixMilli(started).UTC()
	return r, err
}

// Status is what an operator needs to know at a glance.
type Status struct {
	LastGood  *Run `json:"last_good" doc:"the newest backup that succeeded"`
	LastDrill *Run `json:"last_drill"`
	// Stale is the freshness alarm: no good backup, or the newest is older
	// than the policy allows.
	Stale  bool   `json:"stale"`
	MaxAge string `json:"max_age"`
}

// Status reports the newest good backup, the newest drill and whether the
// backups are stale.
func (s *Service) Status(ctx context.Context) (Status, error) {
	st := Status{MaxAge: s.policy.MaxAge.String()}
	good, err := db.All(ctx, s.db, scanRun, `SELECT `+runColumns+` FROM backup_runs WHERE kind = 'backup' AND status = 'ok' ORDER BY id DESC LIMIT 1`)
	if err != nil {
		return st, err
	}
	drill, err := db.All(ctx, s.db, scanRun, `SELECT `+runColumns+` FROM backup_runs WHERE kind = 'drill' ORDER BY id DESC LIMIT 1`)
	if err != nil {
		return st, err
	}
	if len(good) > 0 {
		st.LastGood = &good[0]
	}
	if len(drill) > 0 {
		st.LastDrill = &drill[0]
	}
	st.Stale = st.LastGood == nil || s.now().Sub(st.LastGood.StartedAt) > s.policy.MaxAge
	return st, nil
}

// backupFiles lists the policy folder's complete backup files, newest
// first (the names sort by time).
func (s *Service) backupFiles() ([]string, error) {
	entries, err := os.ReadDir(s.policy.Dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); e.Type().IsRegular() && strings.HasPrefix(n, "kaidian-") && strings.HasSuffix(n, ".kdbk") {
			names = append(names, n)
		}
	}
	sortNewestFirst(names)
	return names, nil
}

// sortNewestFirst sorts backup file names newest first (they sort by time).
func sortNewestFirst(names []string) { sort.Sort(sort.Reverse(sort.StringSlice(names))) }

// timeOf reads the time in a backup file's name.
func timeOf(name string) (time.Time, bool) {
	i := strings.LastIndexByte(name, '-')
	t, err := time.Parse("20060102T150405.000Z", strings.TrimSuffix(name[i+1:], ".kdbk"))
	return t, err == nil
}

// manifestJSON is for logs and the command line.
func manifestJSON(m Manifest) string {
	b, _ := json.Marshal(m)
	return string(b)
}
