package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kaidian/kaidian/internal/backup"
	"github.com/kaidian/kaidian/internal/platform/db"
)

// The orders-backup scenario is the orders scenario measured while the
// database is backed up, again and again, for the whole window; its anchor
// is the orders scenario of the same run (issue 17: at least 80% kept).
// After the run the last backup file is restored into a scratch database,
// as a drill does, and timed.

// backupReport is what the backups during orders-backup did.
type backupReport struct {
	Pace           float64   `json:"pace"`
	DatabaseBytes  int64     `json:"database_bytes"`
	Backups        int       `json:"backups"`
	Seconds        []float64 `json:"seconds"`
	FileBytes      int64     `json:"file_bytes"`
	Rows           int64     `json:"rows"`
	RestoreSeconds float64   `json:"restore_seconds"`
	Error          string    `json:"error,omitempty"`
}

type backupLoad struct {
	d      *db.DB
	dir    string
	key    []byte
	report *backupReport
	last   string
	pace   float64
}

func newBackupLoad(d *db.DB, dir string, pace float64) *backupLoad {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &backupLoad{d: d, dir: dir, key: key, report: &backupReport{Pace: pace}, pace: pace}
}

// during starts backing up (the OnMeasure hook) and returns the function
// that stops after the backup in progress.
func (b *backupLoad) during() func() {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := b.once(n); err != nil {
				b.report.Error = err.Error()
				return
			}
		}
	}()
	return func() { close(stop); wg.Wait() }
}

func (b *backupLoad) once(n int) error {
	path := filepath.Join(b.dir, fmt.Sprintf("bench-%d.kdbk", n))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	m, err := backup.Write(context.Background(), b.d, f, backup.Options{Key: b.key, App: "bench", Pace: b.pace})
	if err != nil {
		return err
	}
	st, _ := f.Stat()
	r := b.report
	r.Backups++
	r.Seconds = append(r.Seconds, time.Since(start).Seconds())
	r.FileBytes, r.Rows = st.Size(), m.Rows
	if b.last != "" {
		os.Remove(b.last)
	}
	b.last = path
	return nil
}

// restore restores the last backup into a scratch database and times it.
func (b *backupLoad) restore(ctx context.Context) error {
	if b.last == "" {
		return fmt.Errorf("orders-backup: no backup finished during the window")
	}
	scratch, drop, err := b.d.Scratch(ctx)
	if err != nil {
		return err
	}
	defer drop()
	res, err := backup.Restore(ctx, func() (io.ReadCloser, error) { return os.Open(b.last) }, scratch, backup.RestoreOptions{Key: b.key})
	b.report.RestoreSeconds = res.Took.Seconds()
	return err
}

// databaseBytes is the size of the benchmark's database: the SQLite file
// with its WAL, or the tables and indexes of the PostgreSQL schema.
func databaseBytes(ctx context.Context, d *db.DB, dsn string) int64 {
	if d.Engine == db.SQLite {
		var n int64
		for _, p := range []string{dsn, dsn + "-wal"} {
			if st, err := os.Stat(p); err == nil {
				n += st.Size()
			}
		}
		return n
	}
	var n int64
	_ = d.QueryRow(ctx, `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c
		JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = current_schema() AND c.relkind = 'r'`).Scan(&n)
	return n
}

// reportBackups times the restore of the last backup and adds what the
// backups did to the report.
func reportBackups(ctx context.Context, b *backupLoad, dsn string, rep *benchReport, logf func(string, ...any)) error {
	b.report.DatabaseBytes = databaseBytes(ctx, b.d, dsn)
	if b.report.Error != "" {
		return fmt.Errorf("orders-backup: %s", b.report.Error)
	}
	if err := b.restore(ctx); err != nil {
		return fmt.Errorf("orders-backup: restore: %w", err)
	}
	r := b.report
	logf("orders-backup: database %s; %d backups during the window, %.1f s each (last), file %s, %d rows; restore %.1f s",
		mb(uint64(r.DatabaseBytes)), r.Backups, r.Seconds[len(r.Seconds)-1], mb(uint64(r.FileBytes)), r.Rows, r.RestoreSeconds)
	rep.Backup = r
	return nil
}
