package backup_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/kaidian/kaidian/internal/backup"
	"github.com/kaidian/kaidian/internal/platform/blob"
	"github.com/kaidian/kaidian/internal/platform/db"
)

// fakeS3 is an in-process S3 server with one bucket, and a store on it.
func fakeS3(t *testing.T) (*blob.S3, *httptest.Server) {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("offsite"); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(ts.Close)
	s, err := blob.NewS3(blob.S3Config{Endpoint: strings.TrimPrefix(ts.URL, "http://"), Bucket: "offsite",
		Region: "us-east-1", AccessKey: "ak", SecretKey: "sk", PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	return s, ts
}

func listed(t *testing.T, l blob.Lister, prefix string) []string {
	t.Helper()
	var keys []string
	if err := l.List(context.Background(), prefix, func(k string, _ int64) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	return keys
}

func localFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestDailyBackupsGoOffsiteAreKeptByPolicyAndDrilled: three daily backups
// with a policy of two days keep two files in the folder and off-site; the
// drill restores the newest and records RTO and RPO; a corrupted newest
// file fails its drill; with the folder lost, the drill restores from the
// off-site copy; the freshness alarm goes off when the newest good backup
// is older than allowed; an unreachable off-site store fails the run
// (recorded) and keeps the local file.
func TestDailyBackupsGoOffsiteAreKeptByPolicyAndDrilled(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		fill(t, d)
		offsite, s3srv := fakeS3(t)
		files := blobStore(t)
		putBlob(t, files, "shop/7/a.png", []byte("png bytes"))
		dir := filepath.Join(t.TempDir(), "backups")
		clock := time.Date(2026, 12, 1, 19, 0, 0, 0, time.UTC) // 03:00 in Shanghai
		svc := backup.NewService(d, files, backup.Policy{Dir: dir, Key: newKey(t), Offsite: offsite,
			Keep: backup.Retention{Daily: 2}, MaxAge: 26 * time.Hour}, "test")
		backup.SetClock(svc, func() time.Time { return clock })

		if st, _ := svc.Status(ctx); !st.Stale || st.LastGood != nil {
			t.Fatalf("before any backup: %+v", st)
		}
		for day := range 3 {
			run, err := svc.Backup(ctx)
			if err != nil || run.Status != "ok" || run.Offsite != "copied" || run.Blobs != 1 || run.Size == 0 || len(run.SHA256) != 64 {
				t.Fatalf("day %d: %+v %v", day, run, err)
			}
			if day < 2 {
				clock = clock.Add(24 * time.Hour)
			}
		}
		local := localFiles(t, dir)
		remote := listed(t, offsite, "kaidian-backups/")
		if len(local) != 2 || len(remote) != 2 || !strings.HasSuffix(remote[1], local[1]) || !strings.Contains(local[1], "20261203T") {
			t.Fatalf("kept locally %v, off-site %v", local, remote)
		}

		clock = clock.Add(90 * time.Minute)
		drill, err := svc.Drill(ctx)
		if err != nil || drill.Status != "ok" || drill.File != local[1] || drill.TookMS <= 0 || drill.DataAgeMS != (90*time.Minute).Milliseconds() || drill.Rows < 3005 {
			t.Fatalf("drill: %+v %v", drill, err)
		}
		if st, _ := svc.Status(ctx); st.Stale || st.LastDrill == nil || st.LastDrill.ID != drill.ID {
			t.Fatalf("status after the drill: %+v", st)
		}

		newest := filepath.Join(dir, local[1])
		b, _ := os.ReadFile(newest)
		b[len(b)/2] ^= 1
		os.WriteFile(newest, b, 0o600)
		if bad, err := svc.Drill(ctx); !errors.Is(err, backup.ErrCorrupt) || bad.Status != "failed" || bad.Error == "" {
			t.Fatalf("drill of a corrupted file: %+v %v", bad, err)
		}

		os.RemoveAll(dir)
		if fromOffsite, err := svc.Drill(ctx); err != nil || fromOffsite.Status != "ok" || fromOffsite.File != local[1] {
			t.Fatalf("drill from the off-site copy: %+v %v", fromOffsite, err)
		}

		clock = clock.Add(26 * time.Hour)
		if st, _ := svc.Status(ctx); !st.Stale {
			t.Fatalf("a 27.5-hour-old backup with a 26-hour policy is not stale: %+v", st)
		}

		s3srv.Close()
		failed, err := svc.Backup(ctx)
		if err == nil || failed.Status != "failed" || failed.Offsite == "copied" || failed.Offsite == "" {
			t.Fatalf("backup with the off-site store down: %+v %v", failed, err)
		}
		if got := localFiles(t, dir); len(got) != 1 {
			t.Fatalf("the local file of the failed copy: %v", got)
		}
		runs, _ := svc.Runs(ctx, 10)
		if len(runs) != 7 || runs[0].ID != failed.ID {
			t.Fatalf("%d runs recorded, newest %+v", len(runs), runs[0])
		}
	})
}

func TestParseRetention(t *testing.T) {
	if r, err := backup.ParseRetention("7d, 4w,12m"); err != nil || r != (backup.Retention{Daily: 7, Weekly: 4, Monthly: 12}) {
		t.Fatalf("%+v %v", r, err)
	}
	for _, bad := range []string{"", "7", "7x", "-1d", "0d,0w", "d", "5000d"} {
		if _, err := backup.ParseRetention(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
