package backup

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kaidian/kaidian/internal/platform/blob"
	"github.com/kaidian/kaidian/internal/platform/db"
)

// ErrBadArchive wraps what is wrong inside a backup that opened: a table
// whose rows do not add up to its recorded sum, a blob that does not
// match its hash, records out of order, no end record.
var ErrBadArchive = errors.New("the backup's contents do not check")

// visitor receives an archive's contents as read reads them; any field may
// be nil.
type visitor struct {
	table    func(name string, columns []string) error
	row      func(vals []any) error
	tableEnd func(name string) error
	blob     func(key, contentType string, data []byte) error
}

// Verify reads a whole backup and checks it — every chunk's seal, every
// table's rows against its count and sum, every blob against its hash,
// the end record — without writing anything; it returns the manifest.
func Verify(ctx context.Context, r io.Reader, key []byte) (Manifest, error) {
	return read(ctx, r, key, visitor{})
}

// read reads an archive, checking it as it goes, and hands its contents
// to v. The manifest comes from the archive's own records.
func read(ctx context.Context, r io.Reader, key []byte, v visitor) (Manifest, error) {
	plain, err := open(r, key)
	if err != nil {
		return Manifest{}, err
	}
	zr, err := gzip.NewReader(plain)
	if err != nil {
		return Manifest{}, badArchive(err)
	}
	lr := &lineReader{r: bufio.NewReaderSize(zr, 256<<10)}
	head, err := lr.record()
	if err != nil || head.Kind != "head" {
		return Manifest{}, badArchive(fmt.Errorf("no head record: %v", err))
	}
	if head.Format != 1 {
		return Manifest{}, ErrVersion
	}
	m := Manifest{Engine: head.Engine, Schema: head.Schema, CreatedAt: head.CreatedAt, App: head.App}
	for {
		if err := ctx.Err(); err != nil {
			return m, err
		}
		rec, err := lr.record()
		if err != nil {
			return m, badArchive(err)
		}
		switch rec.Kind {
		case "table":
			check, err := readTable(lr, rec, v)
			if err != nil {
				return m, err
			}
			m.Tables = append(m.Tables, check)
			m.Rows += check.Rows
		case "blob":
			n, err := readBlob(lr, rec, v)
			if err != nil {
				return m, err
			}
			m.Blobs++
			m.BlobBytes += n
		case "end":
			if rec.Tables != len(m.Tables) || rec.Rows != m.Rows || rec.Blobs != m.Blobs || rec.BlobBytes != m.BlobBytes {
				return m, badArchive(errors.New("the end record's totals differ from the contents"))
			}
			if _, err := lr.next(); !errors.Is(err, errNoLine) {
				return m, badArchive(errors.New("lines after the end record"))
			}
			return m, nil
		default:
			return m, badArchive(fmt.Errorf("unexpected %q record at line %d", rec.Kind, lr.n))
		}
	}
}

func badArchive(err error) error {
	if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrTruncated) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrBadArchive, err)
}

// readTable reads a table's rows up to its table_end and checks them.
func readTable(lr *lineReader, head Record, v visitor) (TableCheck, error) {
	if v.table != nil {
		if err := v.table(head.Table, head.Columns); err != nil {
			return TableCheck{}, err
		}
	}
	var sum tableSum
	for {
		line, err := lr.next()
		if err != nil {
			return TableCheck{}, badArchive(fmt.Errorf("table %s: %v", head.Table, err))
		}
		if len(line) == 0 || line[0] != '[' {
			return endTable(line, head, sum, v)
		}
		sum.add(line)
		if v.row == nil {
			continue
		}
		vals, err := parseRow(line)
		if err != nil || len(vals) != len(head.Columns) {
			return TableCheck{}, badArchive(fmt.Errorf("table %s, line %d: %v", head.Table, lr.n, err))
		}
		if err := v.row(vals); err != nil {
			return TableCheck{}, fmt.Errorf("table %s: %w", head.Table, err)
		}
	}
}

func endTable(line []byte, head Record, sum tableSum, v visitor) (TableCheck, error) {
	var end Record
	if err := json.Unmarshal(line, &end); err != nil || end.Kind != "table_end" || end.Table != head.Table {
		return TableCheck{}, badArchive(fmt.Errorf("table %s has no end", head.Table))
	}
	if end.Rows != sum.rows || end.Sum != sum.String() {
		return TableCheck{}, badArchive(fmt.Errorf("table %s: %d rows summing to %s, recorded %d and %s",
			head.Table, sum.rows, sum.String(), end.Rows, end.Sum))
	}
	if v.tableEnd != nil {
		if err := v.tableEnd(head.Table); err != nil {
			return TableCheck{}, err
		}
	}
	return TableCheck{Table: head.Table, Rows: end.Rows, Sum: end.Sum}, nil
}

// readBlob reads a blob's parts up to its blob_end, checks its size and
// hash, and hands it to v.blob (held in memory: blobs are uploads).
func readBlob(lr *lineReader, head Record, v visitor) (int64, error) {
	var data []byte
	h := sha256.New()
	for {
		line, err := lr.next()
		if err != nil {
			return 0, badArchive(fmt.Errorf("blob %s: %v", head.Key, err))
		}
		if len(line) > 0 && line[0] == '"' {
			var s string
			if err := json.Unmarshal(line, &s); err != nil {
				return 0, badArchive(err)
			}
			part, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return 0, badArchive(err)
			}
			h.Write(part)
			if v.blob != nil {
				data = append(data, part...)
			}
			continue
		}
		var end Record
		if err := json.Unmarshal(line, &end); err != nil || end.Kind != "blob_end" || end.Key != head.Key {
			return 0, badArchive(fmt.Errorf("blob %s has no end", head.Key))
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != end.SHA256 {
			return 0, badArchive(fmt.Errorf("blob %s does not match its hash", head.Key))
		}
		if v.blob != nil {
			if err := v.blob(head.Key, head.ContentType, data); err != nil {
				return 0, err
			}
		}
		return end.Size, nil
	}
}

// RestoreOptions of Restore.
type RestoreOptions struct {
	Key   []byte
	Blobs blob.Store // where the backup's files go (nil: not restored)
}

// Result is what a restore did and what it found.
type Result struct {
	Manifest Manifest
	Took     time.Duration
}

// ErrTargetNotEmpty: a restore goes into an empty database only.
var ErrTargetNotEmpty = errors.New("the target database is not empty: restore into a new SQLite file or an empty PostgreSQL database or schema")

// Restore restores the backup that open opens into the empty database d.
// It reads the file twice: first it verifies all of it (nothing is
// written if any of it is wrong), then it migrates d to the backup's
// schema version, loads every table in one transaction (committed only
// when the foreign keys hold), sums every table again from d and compares
// with the backup, restores the files, and migrates d to this build's
// schema.
func Restore(ctx context.Context, openFile func() (io.ReadCloser, error), d *db.DB, o RestoreOptions) (Result, error) {
	start := time.Now()
	m, err := verifyFile(ctx, openFile, o.Key)
	if err != nil {
		return Result{}, err
	}
	if m.Engine != string(d.Engine) {
		return Result{}, fmt.Errorf("the backup is of a %s database; the target is %s", m.Engine, d.Engine)
	}
	if err := prepareTarget(ctx, d, m.Schema); err != nil {
		return Result{}, err
	}
	if err := load(ctx, openFile, d, o); err != nil {
		return Result{}, err
	}
	if err := compare(ctx, d, m); err != nil {
		return Result{}, err
	}
	if _, err := d.Migrate(ctx); err != nil {
		return Result{}, fmt.Errorf("migrating the restored database: %w", err)
	}
	return Result{Manifest: m, Took: time.Since(start)}, nil
}

func verifyFile(ctx context.Context, openFile func() (io.ReadCloser, error), key []byte) (Manifest, error) {
	f, err := openFile()
	if err != nil {
		return Manifest{}, err
	}
	defer f.Close()
	return Verify(ctx, f, key)
}

// prepareTarget checks that d holds no data and migrates it to version.
func prepareTarget(ctx context.Context, d *db.DB, version int) error {
	names, err := tableNames(ctx, d.DB, d.Engine)
	if err != nil {
		return err
	}
	for _, t := range names {
		var one int
		err := d.DB.QueryRowContext(ctx, `SELECT 1 FROM `+quote(t)+` LIMIT 1`).Scan(&one)
		if err == nil {
			return ErrTargetNotEmpty
		}
		if !db.IsNoRows(err) {
			return err
		}
	}
	if v, err := d.Version(ctx); err == nil && v > version {
		return fmt.Errorf("the target is at schema %d, newer than the backup's %d: %w", v, version, ErrTargetNotEmpty)
	}
	if _, err := d.MigrateTo(ctx, version); err != nil {
		return fmt.Errorf("migrating the target to the backup's schema %d: %w", version, err)
	}
	return nil
}

// compare sums every table of d again and checks it against m.
func compare(ctx context.Context, d *db.DB, m Manifest) error {
	for _, want := range m.Tables {
		rows, err := d.DB.QueryContext(ctx, `SELECT * FROM `+quote(want.Table))
		if err != nil {
			return err
		}
		cols, _ := rows.Columns()
		sum, err := eachRow(rows, len(cols), func([]byte) error { return nil })
		rows.Close()
		if err != nil {
			return err
		}
		if sum.rows != want.Rows || sum.String() != want.Sum {
			return fmt.Errorf("%w: restored table %s has %d rows summing to %s; the backup recorded %d and %s",
				ErrBadArchive, want.Table, sum.rows, sum.String(), want.Rows, want.Sum)
		}
	}
	return nil
}
