package server_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// TestAuditLogThroughTheAPI: a staff change is recorded with who, from
// where, the resource before and after; an export of orders and a login are
// recorded, with the password and the session token redacted; shop B's
// owner sees none of shop A's records, operations staff none at all; the
// owner searches and exports as CSV; the chain verifies after sealing and a
// record edited in the database breaks it. Answers are checked against
// /openapi.json.
func TestAuditLogThroughTheAPI(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		v := newDocValidator(t, e)
		e.seen = v.check
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		b := e.newShop(op, "乙", "enterprise")
		staff := e.must(a.owner, 201, "POST", "/admin/api/v1/staff",
			map[string]any{"username": "svc_" + a.appid, "password": "svc-pass-123", "role": "service", "display_name": "客服"})
		staffPath := fmt.Sprintf("/admin/api/v1/staff/%v", staff["id"])
		e.must(a.owner, 200, "PATCH", staffPath, map[string]any{"role": "finance"})
		if r := e.do(a.owner, "GET", "/admin/api/v1/exports/orders.xlsx", nil); r.status != 200 {
			t.Fatalf("export: %d", r.status)
		}
		finance := e.staffLogin("svc_"+a.appid, "svc-pass-123")

		entries := e.mustList(a.owner, "/admin/api/v1/audit-log?q="+url.QueryEscape("PATCH"))
		if len(entries) != 1 {
			t.Fatalf("PATCH records: %v", entries)
		}
		patch := entries[0]
		if patch["actor"] != "owner_"+a.appid || patch["role"] != "owner" || patch["addr"] == "" || patch["status"].(float64) != 200 ||
			patch["target"] != staffPath || !strings.Contains(patch["before"].(string), `"role":"service"`) ||
			!strings.Contains(patch["after"].(string), `"role":"finance"`) || !strings.Contains(patch["request"].(string), `"role":"finance"`) {
			t.Fatalf("the staff change's record: %v", patch)
		}
		exports := e.mustList(a.owner, "/admin/api/v1/audit-log?q=exports")
		if len(exports) != 1 || exports[0]["action"] != "GET /admin/api/v1/exports/orders.xlsx" {
			t.Fatalf("export records: %v", exports)
		}
		for _, rec := range e.mustList(a.owner, "/admin/api/v1/audit-log") {
			for _, leak := range []string{"svc-pass-123", "owner-pass-1", a.owner.token} {
				if strings.Contains(fmt.Sprint(rec), leak) {
					t.Fatalf("a record shows a secret: %v", rec)
				}
			}
		}
		logins := e.mustList(op, "/admin/api/v1/operator/audit-log?q=auth/login&actor=svc_"+a.appid)
		if len(logins) != 1 || logins[0]["status"].(float64) != 200 || strings.Contains(fmt.Sprint(logins[0]), "svc-pass-123") ||
			strings.Contains(fmt.Sprint(logins[0]), finance.token) || !strings.Contains(logins[0]["request"].(string), "[redacted]") {
			t.Fatalf("login records: %v", logins)
		}

		if got := e.mustList(b.owner, "/admin/api/v1/audit-log"); strings.Contains(fmt.Sprint(got), a.appid) {
			t.Fatalf("shop B's owner sees shop A's records: %v", got)
		}
		if r := e.do(finance, "GET", "/admin/api/v1/audit-log", nil); r.status != 403 {
			t.Fatalf("finance staff read the audit log: %d", r.status)
		}
		if r := e.do(a.owner, "GET", "/admin/api/v1/audit-log?from=2026-13-01", nil); r.status != 400 || r.code() != "invalid_date" {
			t.Fatalf("a bad date: %d %s", r.status, r.body)
		}
		csv := e.do(a.owner, "GET", "/admin/api/v1/audit-log.csv?actor=owner_"+a.appid, nil)
		if csv.status != 200 || !strings.Contains(string(csv.body), "PATCH /admin/api/v1/staff/{id}") || strings.Contains(string(csv.body), b.appid) {
			t.Fatalf("CSV export: %d %s", csv.status, csv.body)
		}

		if _, err := e.srv.Audit.Seal(context.Background()); err != nil {
			t.Fatal(err)
		}
		if rep := e.must(op, 200, "GET", "/admin/api/v1/operator/audit-log/verify", nil); rep["ok"] != true || rep["checked"].(float64) < 5 {
			t.Fatalf("verify: %v", rep)
		}
		tamperAuditRow(t, e, fmt.Sprint(patch["id"]))
		if rep := e.must(op, 200, "GET", "/admin/api/v1/operator/audit-log/verify", nil); rep["ok"] != false ||
			!strings.Contains(rep["problem"].(string), "was changed") {
			t.Fatalf("verify after tampering: %v", rep)
		}
		v.finish([]string{"GET /admin/api/v1/audit-log", "GET /admin/api/v1/audit-log.csv", "GET /admin/api/v1/operator/audit-log",
			"GET /admin/api/v1/operator/audit-log/verify"})
	})
}

// tamperAuditRow edits a sealed record behind kaidian's back, as someone
// with the database's owner rights could: the triggers go first.
func tamperAuditRow(t *testing.T, e *env, id string) {
	t.Helper()
	ctx := context.Background()
	d := e.srv.DB
	drops := []string{`DROP TRIGGER audit_log_sealed_rows_stay`, `DROP TRIGGER audit_log_kept_180_days`}
	if d.Engine == "postgres" {
		drops = []string{`DROP TRIGGER audit_log_append_only ON audit_log`}
	}
	for _, q := range append(drops, `UPDATE audit_log SET after_json = '{"role":"owner"}' WHERE id = `+id) {
		if _, err := d.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
}
