package audit_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/audit"
	"github.com/kaidian/kaidian/internal/platform/db"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func newLog(d *db.DB) *audit.Service {
	return audit.NewService(d, testKey, 0, slog.Default())
}

func record(t *testing.T, s *audit.Service, d *db.DB, shop int64, n int, at time.Time) {
	t.Helper()
	for i := 0; i < n; i++ {
		err := s.Record(context.Background(), d, audit.Entry{ShopID: shop, At: at, ActorID: 7, Actor: "owner", Role: "owner",
			Addr: "10.0.0.1", Action: "PATCH /admin/api/v1/staff/{id}", Target: fmt.Sprintf("/admin/api/v1/staff/%d", i),
			Status: 200, Request: `{"role":"finance"}`, Before: `{"role":"service"}`, After: `{"role":"finance"}`})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// dropGuards removes the append-only triggers, as someone with full access
// to the database could; the chain must still give them away.
func dropGuards(t *testing.T, d *db.DB) {
	t.Helper()
	stmts := []string{`DROP TRIGGER audit_log_sealed_rows_stay`, `DROP TRIGGER audit_log_kept_180_days`}
	if d.Engine == db.Postgres {
		stmts = []string{`DROP TRIGGER audit_log_append_only ON audit_log`}
	}
	for _, q := range stmts {
		if _, err := d.Exec(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
}

func mustVerify(t *testing.T, s *audit.Service, wantOK bool, wantProblem string) audit.Report {
	t.Helper()
	rep, err := s.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK != wantOK || !strings.Contains(rep.Problem, wantProblem) {
		t.Fatalf("verify = %+v, want ok=%v and a problem with %q", rep, wantOK, wantProblem)
	}
	return rep
}

// TestTheDatabaseRefusesToChangeOrDropRecords: once written, a record's
// fields never change; once sealed, nothing of it; a record younger than
// 180 days cannot be deleted.
func TestTheDatabaseRefusesToChangeOrDropRecords(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := db.TestShop(t, d, "wx-audit")
		s := newLog(d)
		record(t, s, d, shop, 2, time.Time{})
		if _, err := d.Exec(ctx, `UPDATE audit_log SET after_json = '{}' WHERE id = (SELECT MIN(id) FROM audit_log)`); err == nil {
			t.Fatal("an unsealed record's fields were changed")
		}
		if n, err := s.Seal(ctx); err != nil || n != 2 {
			t.Fatalf("sealed %d, %v", n, err)
		}
		if _, err := d.Exec(ctx, `UPDATE audit_log SET hash = 'x' WHERE id = (SELECT MIN(id) FROM audit_log)`); err == nil {
			t.Fatal("a sealed record's link was changed")
		}
		if _, err := d.Exec(ctx, `DELETE FROM audit_log`); err == nil {
			t.Fatal("records younger than 180 days were deleted")
		}
		rep := mustVerify(t, s, true, "")
		if rep.Checked != 2 || rep.LastSeq != 2 || rep.Unsealed != 0 {
			t.Fatalf("report %+v", rep)
		}
	})
}

// TestVerifyFindsEveryKindOfTampering: with the triggers gone, a changed
// field, a deleted record, a removed tail, two records swapped and a record
// rewritten without the key are each found, at the right place.
func TestVerifyFindsEveryKindOfTampering(t *testing.T) {
	cases := []struct {
		name    string
		tamper  []string
		problem string
	}{
		{"edited", []string{`UPDATE audit_log SET after_json = '{"role":"owner"}' WHERE seq = 5`}, "was changed"},
		{"actor changed", []string{`UPDATE audit_log SET actor = 'someone' WHERE seq = 9`}, "was changed"},
		{"deleted", []string{`DELETE FROM audit_log WHERE seq = 4`}, "position 4 is missing"},
		{"tail removed", []string{`DELETE FROM audit_log WHERE seq >= 9`}, "records at the end were removed"},
		{"swapped", []string{`UPDATE audit_log SET seq = 100 WHERE seq = 3`, `UPDATE audit_log SET seq = 3 WHERE seq = 6`,
			`UPDATE audit_log SET seq = 6 WHERE seq = 100`}, "does not follow"},
		{"relinked without the key", []string{`UPDATE audit_log SET prev_hash = (SELECT hash FROM audit_log WHERE seq = 2) WHERE seq = 4`,
			`DELETE FROM audit_log WHERE seq = 3`, `UPDATE audit_log SET seq = 3 WHERE seq = 4`}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
				ctx := context.Background()
				shop := db.TestShop(t, d, "wx-audit")
				s := newLog(d)
				record(t, s, d, shop, 10, time.Time{})
				if _, err := s.Seal(ctx); err != nil {
					t.Fatal(err)
				}
				mustVerify(t, s, true, "")
				dropGuards(t, d)
				for _, q := range c.tamper {
					if _, err := d.Exec(ctx, q); err != nil {
						t.Fatal(q, err)
					}
				}
				mustVerify(t, s, false, c.problem)
			})
		})
	}
}

// TestAnotherKeyDoesNotVerify: the links are keyed, so a chain rebuilt by
// someone without the deployment's key does not pass.
func TestAnotherKeyDoesNotVerify(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		shop := db.TestShop(t, d, "wx-audit")
		s := newLog(d)
		record(t, s, d, shop, 3, time.Time{})
		if _, err := s.Seal(context.Background()); err != nil {
			t.Fatal(err)
		}
		other := audit.NewService(d, []byte("another key, not the deployment"), 0, slog.Default())
		mustVerify(t, other, false, "was changed")
	})
}

// TestPruneKeepsTheChainVerifiable: records past the retention are deleted
// oldest first and the chain's start moves past them, so what is left still
// verifies; younger records stay.
func TestPruneKeepsTheChainVerifiable(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := db.TestShop(t, d, "wx-audit")
		s := audit.NewService(d, testKey, 200*24*time.Hour, slog.Default())
		record(t, s, d, shop, 5, time.Now().Add(-300*24*time.Hour))
		record(t, s, d, shop, 3, time.Now().Add(-190*24*time.Hour)) // past 180 days, within 200: kept
		record(t, s, d, shop, 2, time.Time{})
		if _, err := s.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		n, err := s.Prune(ctx)
		if err != nil || n != 5 {
			t.Fatalf("pruned %d, %v; want the 5 older than 200 days", n, err)
		}
		rep := mustVerify(t, s, true, "")
		if rep.FirstSeq != 6 || rep.Checked != 5 {
			t.Fatalf("after pruning: %+v", rep)
		}
		record(t, s, d, shop, 1, time.Time{})
		if _, err := s.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		if rep := mustVerify(t, s, true, ""); rep.LastSeq != 11 {
			t.Fatalf("after one more: %+v", rep)
		}
	})
}

// TestConcurrentWritersAndSealersMakeOneChain: records written from many
// goroutines while several sealers run end up each at one position, every
// position used once, and the chain verifies.
func TestConcurrentWritersAndSealersMakeOneChain(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := db.TestShop(t, d, "wx-audit")
		s := newLog(d)
		var wg sync.WaitGroup
		errc := make(chan error, 64)
		for w := 0; w < 8; w++ {
			wg.Add(2)
			go func() {
				defer wg.Done()
				for i := 0; i < 25; i++ {
					if err := s.Record(ctx, d, audit.Entry{ShopID: shop, Action: "POST /x", Actor: "a"}); err != nil {
						errc <- err
					}
				}
			}()
			go func() {
				defer wg.Done()
				for i := 0; i < 5; i++ {
					if _, err := s.Seal(ctx); err != nil {
						errc <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		if _, err := s.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		if rep := mustVerify(t, s, true, ""); rep.Checked != 200 || rep.LastSeq != 200 || rep.Unsealed != 0 {
			t.Fatalf("%+v", rep)
		}
	})
}

func TestRedactHidesSecretsAtAnyDepth(t *testing.T) {
	got := audit.Redact([]byte(`{"username":"li","password":"hunter22","pay":{"api_v3_key":"k","mch_id":"190"},
		"list":[{"token":"t","name":"x"}],"code":"123456","empty_secret":"","totp_enabled":true,"recovery_codes":["a1","b2"]}`))
	for _, leak := range []string{"hunter22", `"k"`, `"t"`, "123456"} {
		if strings.Contains(got, leak) {
			t.Fatalf("%s leaks %s", got, leak)
		}
	}
	if strings.Contains(got, `"a1"`) {
		t.Fatalf("%s leaks a recovery code", got)
	}
	if answer := audit.Redact([]byte(`{"code":"invalid_code","message":"wrong"}`)); !strings.Contains(answer, `"code":"invalid_code"`) {
		t.Fatalf("an error's code was redacted: %s", answer)
	}
	for _, kept := range []string{`"username":"li"`, `"mch_id":"190"`, `"name":"x"`, `"totp_enabled":true`} {
		if !strings.Contains(got, kept) {
			t.Fatalf("%s lost %s", got, kept)
		}
	}
	if got := audit.Redact([]byte(`{"cut`)); !strings.HasPrefix(got, "[not JSON") {
		t.Fatalf("a cut body is kept: %s", got)
	}
}

// TestAppendsFromManyCallersAllLand: 300 records appended by 30 callers at
// once (sharing group commits) are each written once.
func TestAppendsFromManyCallersAllLand(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := db.TestShop(t, d, "wx-audit")
		s := newLog(d)
		var wg sync.WaitGroup
		for w := 0; w < 30; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					if err := s.Append(ctx, audit.Entry{ShopID: shop, Action: "POST /x", Target: fmt.Sprintf("%d/%d", w, i)}); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		var n, distinct int
		if err := d.QueryRow(ctx, `SELECT COUNT(*), COUNT(DISTINCT target) FROM audit_log WHERE shop_id = ?`, shop).Scan(&n, &distinct); err != nil {
			t.Fatal(err)
		}
		if n != 300 || distinct != 300 {
			t.Fatalf("%d records, %d distinct; want 300", n, distinct)
		}
	})
}
