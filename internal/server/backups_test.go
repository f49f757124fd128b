package server_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/kaidian/kaidian/internal/backup"
	"github.com/kaidian/kaidian/internal/platform/db"
)

// TestOperatorsBackUpAndDrillThroughTheAPI: with a backup key and an
// off-site bucket, an operator sees the freshness alarm before the first
// backup, backs up (the file goes off-site), drills the restore, and sees
// both runs; shop staff may not; without a key the screen says backups
// are not configured and running one is refused. Every answer is checked
// against /openapi.json.
func TestOperatorsBackUpAndDrillThroughTheAPI(t *testing.T) {
	for _, engine := range db.TestEngines() {
		t.Run(string(engine), func(t *testing.T) {
			backend := s3mem.New()
			if err := backend.CreateBucket("offsite"); err != nil {
				t.Fatal(err)
			}
			s3 := httptest.NewServer(gofakes3.New(backend).Server())
			t.Cleanup(s3.Close)
			e := newEnv(t, db.TestDSN(t, engine), nil, "--backup-key", backup.NewKey(),
				"--backup-s3", s3.URL+"/offsite?path_style=true&region=us-east-1",
				"--backup-s3-access-key", "ak", "--backup-s3-secret-key", "sk")
			v := newDocValidator(t, e)
			e.seen = v.check
			op := e.operator()
			a := e.newShop(op, "甲", "enterprise")

			if r := e.do(a.owner, "GET", "/admin/api/v1/backups", nil); r.status != 403 {
				t.Fatalf("shop staff see backups: %d %s", r.status, r.body)
			}
			before := e.must(op, 200, "GET", "/admin/api/v1/backups", nil)
			if before["configured"] != true || before["status"].(map[string]any)["stale"] != true {
				t.Fatalf("before any backup: %v", before)
			}
			run := e.must(op, 201, "POST", "/admin/api/v1/backups", nil)
			if run["status"] != "ok" || run["offsite"] != "copied" || run["rows"].(float64) == 0 {
				t.Fatalf("backup: %v", run)
			}
			objects, err := backend.ListBucket("offsite", nil, gofakes3.ListBucketPage{})
			if err != nil || len(objects.Contents) != 1 || !strings.HasSuffix(objects.Contents[0].Key, run["file"].(string)) {
				t.Fatalf("off-site: %+v %v", objects, err)
			}
			drill := e.must(op, 201, "POST", "/admin/api/v1/backups/drill", nil)
			if drill["status"] != "ok" || drill["rows"] != run["rows"] || drill["took_ms"].(float64) <= 0 {
				t.Fatalf("drill: %v (backup %v)", drill, run)
			}
			after := e.must(op, 200, "GET", "/admin/api/v1/backups", nil)
			st := after["status"].(map[string]any)
			if st["stale"] != false || st["last_drill"].(map[string]any)["id"] != drill["id"] || len(after["runs"].([]any)) != 2 {
				t.Fatalf("after: %v", after)
			}

			v.finish([]string{"GET /admin/api/v1/backups", "POST /admin/api/v1/backups", "POST /admin/api/v1/backups/drill"})

			bare := newEnv(t, db.TestDSN(t, engine), nil)
			bv := newDocValidator(t, bare)
			bare.seen = bv.check
			bop := bare.operator()
			if o := bare.must(bop, 200, "GET", "/admin/api/v1/backups", nil); o["configured"] != false {
				t.Fatalf("without a key: %v", o)
			}
			if r := bare.do(bop, "POST", "/admin/api/v1/backups", nil); r.status != 409 || r.code() != "backups_not_configured" {
				t.Fatalf("backing up without a key: %d %s", r.status, r.body)
			}
			bv.finish([]string{"GET /admin/api/v1/backups", "POST /admin/api/v1/backups"})
		})
	}
}
