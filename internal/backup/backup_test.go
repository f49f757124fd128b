package backup_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/backup"
	"github.com/kaidian/kaidian/internal/platform/blob"
	"github.com/kaidian/kaidian/internal/platform/db"
)

func newKey(t *testing.T) []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// fill writes rows of every kind of value kaidian stores: text in
// Chinese, emoji and quotes, booleans, bytes with zero bytes, a NULL,
// rows that refer to each other, and 3,000 members.
func fill(t *testing.T, d *db.DB) {
	t.Helper()
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := d.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	now := time.Now().UnixMilli()
	exec(`INSERT INTO shops (id, name, appid, subject_type, brand_authorized, created_at, updated_at) VALUES (7, ?, 'wx7', 'enterprise', TRUE, ?, ?)`,
		"小店 \"引号\" \\ 🍵\n第二行", now, now)
	exec(`INSERT INTO shops (id, name, appid, subject_type, created_at, updated_at) VALUES (9, 'plain', 'wx9', 'personal', ?, ?)`, now, now)
	exec(`INSERT INTO accounts (id, shop_id, username, password_hash, role, created_at, updated_at) VALUES (3, NULL, 'op', 'h', 'operator', ?, ?)`, now, now)
	exec(`INSERT INTO accounts (id, shop_id, username, password_hash, role, disabled, created_at, updated_at) VALUES (4, 7, 'owner7', 'h', 'owner', TRUE, ?, ?)`, now, now)
	exec(`INSERT INTO recs_models (shop_id, built_at, lines, data) VALUES (7, ?, 2, ?)`, now, []byte{0, 1, 2, 0, 255})
	for i := range 3000 {
		exec(`INSERT INTO members (shop_id, openid, nickname, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			7+2*(i%2), fmt.Sprintf("o-%d", i), fmt.Sprintf("会员%d", i), now+int64(i), now)
	}
}

func blobStore(t *testing.T) *blob.Local {
	t.Helper()
	s, err := blob.NewLocal(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func putBlob(t *testing.T, s blob.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(context.Background(), key, "image/png", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
}

func fileOpener(b []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}

// emptyTarget is a database on the same engine with no tables at all.
func emptyTarget(t *testing.T, engine db.Engine) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), db.EmptyTestDSN(t, engine))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestBackupRestoresEveryRowAndFile: a backup of a database and its files,
// restored into an empty database and folder, gives back every row (the
// restore sums each table again and compares), every file byte for byte,
// the schema of this build, and ids that continue after the restored ones.
func TestBackupRestoresEveryRowAndFile(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		fill(t, d)
		files := blobStore(t)
		big := make([]byte, 2<<20+123) // more than one line and one sealed chunk
		rand.Read(big)
		putBlob(t, files, "shop/7/big.png", big)
		putBlob(t, files, "shop/9/small.png", []byte("png"))
		key := newKey(t)
		var out bytes.Buffer
		m, err := backup.Write(ctx, d, &out, backup.Options{Key: key, Blobs: files, App: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if m.Blobs != 2 || m.BlobBytes != int64(len(big)+3) || m.Rows < 3005 || m.Schema == 0 {
			t.Fatalf("manifest: %+v", m)
		}
		if bytes.Contains(out.Bytes(), []byte("小店 \"引号\"")) || bytes.Contains(out.Bytes(), []byte("会员2999")) {
			t.Fatal("the backup file holds data in the clear")
		}

		target, restored := emptyTarget(t, d.Engine), blobStore(t)
		res, err := backup.Restore(ctx, fileOpener(out.Bytes()), target, backup.RestoreOptions{Key: key, Blobs: restored})
		if err != nil {
			t.Fatal(err)
		}
		if res.Manifest.Rows != m.Rows || len(res.Manifest.Tables) != len(m.Tables) {
			t.Fatalf("restored %+v, backed up %+v", res.Manifest, m)
		}
		var name string
		var authorized bool
		if err := target.QueryRow(ctx, `SELECT name, brand_authorized FROM shops WHERE id = 7`).Scan(&name, &authorized); err != nil ||
			name != "小店 \"引号\" \\ 🍵\n第二行" || !authorized {
			t.Fatalf("shop 7: %q %v %v", name, authorized, err)
		}
		var data []byte
		target.QueryRow(ctx, `SELECT data FROM recs_models WHERE shop_id = 7`).Scan(&data)
		if !bytes.Equal(data, []byte{0, 1, 2, 0, 255}) {
			t.Fatalf("bytes: %v", data)
		}
		rc, _, err := restored.Get(ctx, "shop/7/big.png")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, big) {
			t.Fatalf("the big file came back as %d bytes", len(got))
		}
		if v, _ := target.Version(ctx); v != m.Schema {
			t.Fatalf("restored schema %d, backed up %d", v, m.Schema)
		}
		var id int64
		if err := target.QueryRow(ctx, `INSERT INTO members (shop_id, openid, created_at, updated_at) VALUES (7, 'new', 1, 1) RETURNING id`).Scan(&id); err != nil {
			t.Fatalf("a new row after the restore: %v", err)
		}
		var max int64
		target.QueryRow(ctx, `SELECT MAX(id) FROM members WHERE openid <> 'new'`).Scan(&max)
		if id <= max {
			t.Fatalf("new member id %d collides with restored ids up to %d", id, max)
		}
	})
}

// TestBadBackupsAreRefusedBeforeTheTargetIsTouched: a file sealed with
// another key, one cut short, one with a flipped byte, one with bytes
// appended, something that is not a backup at all, and a restore into a
// database that has data: each is refused with its own error, and the
// target still has no tables.
func TestBadBackupsAreRefusedBeforeTheTargetIsTouched(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		fill(t, d)
		key := newKey(t)
		var out bytes.Buffer
		if _, err := backup.Write(ctx, d, &out, backup.Options{Key: key}); err != nil {
			t.Fatal(err)
		}
		good := out.Bytes()
		flipped := bytes.Clone(good)
		flipped[len(flipped)/2] ^= 0x40
		cases := []struct {
			name string
			file []byte
			key  []byte
			want error
		}{
			{"another key", good, newKey(t), backup.ErrWrongKey},
			{"cut short", good[:len(good)-100], key, backup.ErrTruncated},
			{"cut at a chunk boundary", good[:bytes.IndexByte(good[15:], '\n')+16], key, backup.ErrTruncated},
			{"a flipped byte", flipped, key, backup.ErrCorrupt},
			{"bytes appended", append(bytes.Clone(good), "more"...), key, backup.ErrCorrupt},
			{"not a backup", []byte("SQLite format 3\x00 and so on"), key, backup.ErrNotBackup},
			{"empty", nil, key, backup.ErrNotBackup},
		}
		for _, c := range cases {
			if _, err := backup.Verify(ctx, bytes.NewReader(c.file), c.key); !errors.Is(err, c.want) {
				t.Errorf("verify, %s: %v, want %v", c.name, err, c.want)
			}
			target := emptyTarget(t, d.Engine)
			if _, err := backup.Restore(ctx, fileOpener(c.file), target, backup.RestoreOptions{Key: c.key}); !errors.Is(err, c.want) {
				t.Errorf("restore, %s: %v, want %v", c.name, err, c.want)
			}
			if v, err := target.Version(ctx); err == nil || v != 0 {
				t.Errorf("restore, %s: the target was migrated to %d", c.name, v)
			}
		}
		// A database with data is not a target.
		if _, err := backup.Restore(ctx, fileOpener(good), d, backup.RestoreOptions{Key: key}); !errors.Is(err, backup.ErrTargetNotEmpty) {
			t.Fatalf("restore over data: %v", err)
		}
		if _, err := backup.Verify(ctx, bytes.NewReader(good), key); err != nil {
			t.Fatalf("the good file: %v", err)
		}
	})
}

// TestBackupIsOneSnapshotWhileWritersGoOn: while the backup's snapshot is
// open, a write commits at once (within 2 s, where a backup holding the
// write lock would keep it waiting); the backup holds the data as it was
// when the snapshot began, not that write.
func TestBackupIsOneSnapshotWhileWritersGoOn(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		fill(t, d)
		var during error
		opened := func() {
			wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			_, during = d.Exec(wctx, `INSERT INTO members (shop_id, openid, created_at, updated_at) VALUES (7, 'during', 1, 1)`)
		}
		key := newKey(t)
		var out bytes.Buffer
		if _, err := backup.WriteOpened(ctx, d, &out, backup.Options{Key: key}, opened); err != nil {
			t.Fatal(err)
		}
		if during != nil {
			t.Fatalf("a write while the backup's snapshot was open: %v", during)
		}
		target := emptyTarget(t, d.Engine)
		if _, err := backup.Restore(ctx, fileOpener(out.Bytes()), target, backup.RestoreOptions{Key: key}); err != nil {
			t.Fatal(err)
		}
		var inBackup, live int
		target.QueryRow(ctx, `SELECT COUNT(*) FROM members`).Scan(&inBackup)
		d.QueryRow(ctx, `SELECT COUNT(*) FROM members`).Scan(&live)
		if inBackup != 3000 || live != 3001 {
			t.Fatalf("backup has %d members, live %d: want the 3,000 of the snapshot and 3,001", inBackup, live)
		}
	})
}

// TestPacedBackupPausesAndStaysWhole: at a pace of a quarter of a core the
// backup pauses after every 1,024 lines for about three times as long as
// they took, and the file is the same backup (it restores, every table's
// sum checked); at pace 1 it never pauses.
func TestPacedBackupPausesAndStaysWhole(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		fill(t, d)
		key := newKey(t)
		var pauses int
		var paused time.Duration
		sleep := func(p time.Duration) { pauses++; paused += p }
		var out bytes.Buffer
		start := time.Now()
		if _, err := backup.Write(ctx, d, &out, backup.WithSleep(backup.Options{Key: key, Pace: 0.25}, sleep)); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		if pauses < 2 || paused <= 0 || paused > 3*took+time.Second {
			t.Fatalf("%d pauses of %s in all for a backup that took %s", pauses, paused, took)
		}
		if _, err := backup.Restore(ctx, fileOpener(out.Bytes()), emptyTarget(t, d.Engine), backup.RestoreOptions{Key: key}); err != nil {
			t.Fatal(err)
		}
		pauses = 0
		if _, err := backup.Write(ctx, d, io.Discard, backup.WithSleep(backup.Options{Key: key, Pace: 1}, sleep)); err != nil || pauses != 0 {
			t.Fatalf("pace 1: %d pauses, %v", pauses, err)
		}
	})
}
